"""``adhash-tui``: the Textual terminal dashboard (the ``tui`` extra).

Not part of this release yet: :mod:`adhash_tui._entry` checks the extra and says so.
"""
