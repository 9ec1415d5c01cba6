"""``adhash``, the command-line front-end of adhash (the ``cli`` extra).

It parses arguments, calls the core and renders the result; it holds no logic of its own. The
console script enters through :mod:`adhash_cli._entry`; the Typer app is in :mod:`adhash_cli.app`.
"""
