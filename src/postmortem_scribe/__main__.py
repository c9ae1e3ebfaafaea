"""``python -m postmortem_scribe`` is the ``scribe`` command."""

from __future__ import annotations

import sys

from .cli.main import main

sys.exit(main())
