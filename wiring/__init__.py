"""The composition root: the ``hotline`` command, embedded services and seed data.

Kept apart from ``config/`` (which holds data files only) so that no installed
distribution named ``config`` can shadow it."""
