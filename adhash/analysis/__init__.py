"""Analysis of runs: A/B comparison with statistics, and the charts of self-contained reports.

:func:`~adhash.analysis.compare.run_ab` runs a baseline and a candidate in fresh processes and
compares them (:mod:`adhash.analysis.stats`); reports are JSON, Markdown and HTML.
"""
