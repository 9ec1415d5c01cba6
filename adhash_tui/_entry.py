"""Console-script entry point of ``adhash-tui``.

Checks that the ``tui`` extra is installed before anything imports Textual. The dashboard itself
comes with a later release; until then the script says so and exits with the Policy exit code.
"""

from __future__ import annotations

import sys
from typing import NoReturn

from adhash._version import __version__
from adhash.errors import PolicyError
from adhash.extras import EXTRAS, require


def main() -> NoReturn:
    """Check the ``tui`` extra, then report that the terminal dashboard is not in this release."""
    require(EXTRAS["tui"], program="adhash-tui")
    refusal = PolicyError(
        f"the terminal dashboard is not part of adhash {__version__} yet",
        hint="use the 'adhash' command meanwhile ('adhash --help')",
    )
    print(f"adhash-tui: {refusal.kind} error: {refusal.detail}", file=sys.stderr)
    print(f"hint: {refusal.hint}", file=sys.stderr)
    sys.exit(refusal.exit_code)
