"""Benchmarks for the adhash map backends against the built-in ``dict``.

Run ``python -m benchmarks`` (or ``nox -s bench``); results go to ``benchmarks/results/`` as JSON
and Markdown, and ``docs/performance.md`` explains them.
"""
