"""The ``adhash`` commands, one module each, registered in :func:`adhash_cli.app.create_app`."""
