"""The version of adhash: the single source that the build (hatch) and ``adhash --version`` read."""

__version__ = "0.1.0"
