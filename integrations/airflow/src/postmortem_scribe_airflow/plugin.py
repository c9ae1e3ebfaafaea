"""The Airflow plugin, found through the ``airflow.plugins`` entry point of this distribution."""

from __future__ import annotations

from .listener import listener
from .version_compat import AirflowPlugin


class PostmortemScribePlugin(AirflowPlugin):
    """Registers the postmortem-scribe listener in every Airflow component.

    ``airflow plugins`` lists it as ``postmortem_scribe``.  Set
    ``AIRFLOW__POSTMORTEM_SCRIBE__ENABLED=False`` to keep it installed but silent.
    """

    name = "postmortem_scribe"
    listeners = [listener]
