"""The flooding benchmark end to end: ``--quick`` into a temporary folder, its files checked.

One quick run (a 50 ms cap) is shared by the tests that read its output; the whole module takes
a few seconds.
"""

from __future__ import annotations

import doctest
import itertools
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from benchmarks import flooding

TINY_CAP_SECONDS = 0.05
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The JSON path of one quick run; the Markdown and the chart are beside it."""
    folder = tmp_path_factory.mktemp("flooding")
    status = flooding.main(
        [
            "--quick",
            "--cap-seconds",
            str(TINY_CAP_SECONDS),
            "--out",
            str(folder / "flooding.json"),
            "--chart",
            str(folder / "flooding.svg"),
        ]
    )
    assert status == 0
    return folder / "flooding.json"


def _result(path: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return result


def _measurement(result: dict[str, Any], workload: str, n: int, contender: str) -> dict[str, Any]:
    return next(
        m
        for m in result["measurements"]
        if (m["workload"], m["n"], m["contender"]) == (workload, n, contender)
    )


def test_quick_run_measures_every_workload_size_and_contender(quick_run: Path) -> None:
    result = _result(quick_run)
    assert result["schema"] == "adhash.bench.flooding.v1"
    assert result["cap_seconds"] == TINY_CAP_SECONDS
    expected = set(
        itertools.product(
            [w.name for w in flooding.WORKLOADS], flooding.QUICK_SIZES, list(flooding.CONTENDERS)
        )
    )
    assert {(m["workload"], m["n"], m["contender"]) for m in result["measurements"]} == expected


def test_each_measurement_records_both_phases_and_its_total(quick_run: Path) -> None:
    for m in _result(quick_run)["measurements"]:
        for phase in (m["insert"], m["lookup"]):
            assert set(phase) == {"planned", "done", "elapsed_ns", "cut", "ns_per_op"}
            assert 0 < phase["done"] <= phase["planned"]
            assert phase["ns_per_op"] == pytest.approx(phase["elapsed_ns"] / phase["done"])
        assert m["total_ns"] == m["insert"]["elapsed_ns"] + m["lookup"]["elapsed_ns"]
        assert m["total_is_lower_bound"] == (m["insert"]["cut"] or m["lookup"]["cut"])
        assert m["total_min_ns"] <= m["total_ns"] <= m["total_max_ns"]


def test_an_uncut_measurement_inserted_and_looked_up_every_key(quick_run: Path) -> None:
    uncut = [m for m in _result(quick_run)["measurements"] if not m["total_is_lower_bound"]]
    assert uncut
    for m in uncut:
        assert m["insert"]["done"] == m["lookup"]["done"] == m["n"]
        assert m["lookup_scope"] == "all"


def test_a_tiny_cap_cuts_a_slow_contender_and_records_it(quick_run: Path) -> None:
    n = max(flooding.QUICK_SIZES)
    m = _measurement(_result(quick_run), "full-hash", n, "robinhood")
    assert m["insert"]["cut"]
    assert m["insert"]["done"] < n
    assert m["insert"]["done"] % flooding.CHECK_EVERY == 0
    assert m["insert"]["elapsed_ns"] >= TINY_CAP_SECONDS * 1e9
    assert m["lookup_scope"] == "inserted"
    assert m["lookup"]["planned"] == m["insert"]["done"]
    assert m["total_is_lower_bound"]
    markdown = quick_run.with_suffix(".md").read_text(encoding="utf-8")
    assert f"full-hash N = {n:,} robinhood: insert cut after {m['insert']['done']:,} of {n:,}" in (
        markdown
    )


def test_only_adaptive_records_its_hashing_and_events(quick_run: Path) -> None:
    for m in _result(quick_run)["measurements"]:
        if m["contender"] != flooding.ADAPTIVE:
            assert m["adaptive"] is None
            continue
        outcome = m["adaptive"]
        assert outcome["hashing"] in ("plain", "salted")
        assert outcome["migrations"] == outcome["events_by_kind"].get("migration_started", 0)
        assert all(event["reason"] == "flooding" for event in outcome["flooding_events"])


def test_growth_and_targets_are_recorded_for_the_two_sizes(quick_run: Path) -> None:
    result = _result(quick_run)
    assert len(result["growth"]) == len(flooding.WORKLOADS) * len(flooding.CONTENDERS)
    small, large = flooding.QUICK_SIZES
    for g in result["growth"]:
        assert (g["n_min"], g["n_max"]) == (small, large)
        assert g["linear_ratio"] == large / small
    assert [t["status"] in ("PASS", "MISS", "n/a") for t in result["targets"]] == [True] * 3


def test_chart_is_svg_with_one_marker_per_measurement(quick_run: Path) -> None:
    result = _result(quick_run)
    root = ET.fromstring(quick_run.with_suffix(".svg").read_bytes())
    assert root.tag == f"{SVG}svg"
    assert len(root.findall(f".//{SVG}title")) == len(result["measurements"])
    cut_markers = [
        title for title in root.iter(f"{SVG}title") if "cut, at least" in (title.text or "")
    ]
    assert len(cut_markers) == sum(m["total_is_lower_bound"] for m in result["measurements"])


def test_chart_only_redraws_the_same_chart_from_the_results(
    quick_run: Path, tmp_path: Path
) -> None:
    redrawn = tmp_path / "redrawn.svg"
    assert flooding.main(["--chart-only", str(quick_run), "--chart", str(redrawn)]) == 0
    assert redrawn.read_bytes() == quick_run.with_suffix(".svg").read_bytes()


class _WrongValues(dict[Any, Any]):
    """A map that answers fast and wrong."""

    def __getitem__(self, key: Any) -> Any:
        return super().__getitem__(key) + 1


def test_a_map_that_returns_wrong_values_fails_the_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(flooding.CONTENDERS, "chaining", _WrongValues)
    argv = ["--sizes", "100,200", "--workloads", "low-bits", "--contenders", "chaining"]
    argv += ["--out", str(tmp_path / "f.json"), "--chart", str(tmp_path / "f.svg")]
    with pytest.raises(AssertionError, match="chaining: looking up key"):
        flooding.main(argv)
    assert not (tmp_path / "f.json").exists()


def test_module_examples_hold() -> None:
    assert doctest.testmod(flooding).failed == 0
