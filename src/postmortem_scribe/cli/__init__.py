"""The ``scribe`` command line."""
