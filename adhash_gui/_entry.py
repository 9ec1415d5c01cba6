"""Console-script entry point of ``adhash-gui``.

Checks that the ``gui`` extra is installed before anything imports Qt. Mission Control itself comes
with a later release; until then the script says so and exits with the Policy exit code.
"""

from __future__ import annotations

import sys
from typing import NoReturn

from adhash._version import __version__
from adhash.errors import PolicyError
from adhash.extras import EXTRAS, require


def main() -> NoReturn:
    """Check the ``gui`` extra, then report that Mission Control is not in this release."""
    require(EXTRAS["gui"], program="adhash-gui")
    refusal = PolicyError(
        f"Mission Control, the desktop app, is not part of adhash {__version__} yet",
        hint="use the 'adhash' command meanwhile ('adhash --help')",
    )
    print(f"adhash-gui: {refusal.kind} error: {refusal.detail}", file=sys.stderr)
    print(f"hint: {refusal.hint}", file=sys.stderr)
    sys.exit(refusal.exit_code)
