"""Hypothesis profiles for the whole test suite, and a clean adhash environment for every test.

``default`` keeps every property fast enough for a developer's run; ``stress`` (``nox -s stress``)
tries far more examples per property. ``HYPOTHESIS_PROFILE`` chooses one.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    max_examples=75,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "stress",
    max_examples=2000,
    stateful_step_count=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def _clean_adhash_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's settings: ``ADHASH_CONFIG``, ``ADHASH_<SECTION>__<KEY>``
    variables and the user's presets folder are replaced by nothing and an empty folder.
    """
    for name in list(os.environ):
        if name.upper() == "ADHASH_CONFIG" or (name.upper().startswith("ADHASH_") and "__" in name):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ADHASH_PRESETS_DIR", str(tmp_path / "adhash-presets"))
