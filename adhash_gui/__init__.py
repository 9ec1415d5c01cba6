"""``adhash-gui``, Mission Control: the PyQt6 + pyqtgraph desktop front-end (the ``gui`` extra).

Not part of this release yet: :mod:`adhash_gui._entry` checks the extra and says so.
"""
