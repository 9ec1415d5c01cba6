"""Console-script entry point of ``adhash``.

Checks that the ``cli`` extra is installed before anything imports Typer, then runs the app and
exits with the code the run ended with.
"""

from __future__ import annotations

import sys
from typing import NoReturn

from adhash.extras import EXTRAS, require


def main() -> NoReturn:
    """Run ``adhash`` on the process arguments and exit with its exit code."""
    require(EXTRAS["cli"], program="adhash")
    from adhash_cli.app import create_app
    from adhash_cli.runner import run

    sys.exit(run(create_app(), sys.argv[1:]))
