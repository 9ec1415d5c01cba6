"""``adhash ab-compare`` end to end: runs in fresh processes, the reports, the regression gate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from adhash.workload.format import Op, WorkloadWriter
from tests.cli.cli_harness import RunCli


@pytest.fixture(scope="module")
def workload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ab") / "w.csv"
    with WorkloadWriter(path) as writer:
        writer.write_many((Op.PUT, f"K{i % 3000}", "v") for i in range(12_000))
        writer.write_many((Op.GET, f"K{i % 4000}", None) for i in range(12_000))
    return path


def _compare(run_cli: RunCli, *args: str) -> tuple[int, dict[str, Any], str]:
    outcome = run_cli("--json", "ab-compare", *args)
    stream = outcome.stdout if outcome.exit_code == 0 else outcome.stderr
    return outcome.exit_code, orjson.loads(stream.strip().splitlines()[-1]), outcome.stderr


@pytest.fixture(scope="module")
def dict_vs_adaptive(
    workload: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, Any]]:
    # dict replays several times faster than any pure-Python backend: a sure difference.
    from adhash_cli.app import create_app
    from adhash_cli.runner import run

    out = tmp_path_factory.mktemp("ab-out")
    code = run(
        create_app(),
        [
            "ab-compare",
            "--csv",
            str(workload),
            "--baseline-mode",
            "dict",
            "--candidate-mode",
            "adaptive",
            "--repeats",
            "5",
            "--out-dir",
            str(out),
        ],
    )
    assert code == 0
    (report,) = out.glob("*.json")
    return out, orjson.loads(report.read_bytes())


def test_result_declares_its_schema_and_both_sides(
    dict_vs_adaptive: tuple[Path, dict[str, Any]],
) -> None:
    _, result = dict_vs_adaptive
    assert result["schema"] == "adhash.compare.v1"
    assert (result["baseline"]["mode"], result["candidate"]["mode"]) == ("dict", "adaptive")


def test_runs_alternate_abba_and_each_wrote_its_artifacts(
    dict_vs_adaptive: tuple[Path, dict[str, Any]],
) -> None:
    _, result = dict_vs_adaptive
    sides = [run["side"][0] for run in result["runs"]]
    assert "".join(sides) == "bc" + "cb" + "bc" + "cb" + "bc"
    for run in result["runs"]:
        assert Path(run["summary_file"]).is_file()
        assert Path(run["metrics_file"]).stat().st_size > 0


def test_a_much_slower_candidate_is_significantly_worse(
    dict_vs_adaptive: tuple[Path, dict[str, Any]],
) -> None:
    _, result = dict_vs_adaptive
    throughput = result["metrics"][0]
    assert throughput["name"] == "throughput"
    assert throughput["verdict"] == "worse"
    assert throughput["p_value"] < 0.05
    assert throughput["ci_high_pct"] < 0
    assert throughput["effect_size"] == -1.0
    assert result["verdict"] == "worse"


def test_latency_percentiles_are_compared_too(
    dict_vs_adaptive: tuple[Path, dict[str, Any]],
) -> None:
    _, result = dict_vs_adaptive
    names = [metric["name"] for metric in result["metrics"]]
    assert names[:4] == ["throughput", "latency p50", "latency p90", "latency p99"]


def test_markdown_and_html_reports_are_written_and_self_contained(
    dict_vs_adaptive: tuple[Path, dict[str, Any]],
) -> None:
    out, _ = dict_vs_adaptive
    (markdown,) = out.glob("*.md")
    (page,) = out.glob("*.html")
    assert "| throughput |" in markdown.read_text()
    text = page.read_text()
    assert text.count("<svg") >= 4
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in text


def test_fail_if_slower_exits_3_on_a_significant_regression(
    run_cli: RunCli, workload: Path, tmp_path: Path
) -> None:
    code, envelope, _ = _compare(
        run_cli,
        "--csv",
        str(workload),
        "--baseline-mode",
        "dict",
        "--candidate-mode",
        "adaptive",
        # Timing every operation slows the candidate further, so a loaded machine's noise
        # cannot make the two sides overlap.
        "--candidate-set",
        "replay.latency_sample_every=1",
        "--repeats",
        "7",
        "--out-dir",
        str(tmp_path),
        "--fail-if-slower",
        "10",
    )
    assert code == 3
    assert envelope["error"] == "Invariant"
    assert "--fail-if-slower" in envelope["detail"]
    assert list(tmp_path.glob("*.json")), "the reports are written before the gate fails"


def test_fail_if_slower_passes_when_the_candidate_is_faster(
    run_cli: RunCli, workload: Path, tmp_path: Path
) -> None:
    code, envelope, _ = _compare(
        run_cli,
        "--csv",
        str(workload),
        "--baseline-mode",
        "adaptive",
        "--candidate-mode",
        "dict",
        "--repeats",
        "5",
        "--out-dir",
        str(tmp_path),
        "--fail-if-slower",
        "1",
    )
    assert code == 0
    assert envelope["verdict"] == "better"


def test_a_bad_setting_on_one_side_is_refused_before_any_run(
    run_cli: RunCli, workload: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code, envelope, _ = _compare(
        run_cli,
        "--csv",
        str(workload),
        "--candidate-set",
        "adaptive.migration_batch=0",
        "--out-dir",
        str(out),
    )
    assert code == 2
    assert envelope["detail"].startswith("candidate: ")
    assert "adaptive.migration_batch" in envelope["detail"]
    assert not out.exists()


def test_identical_sides_are_refused(run_cli: RunCli, workload: Path, tmp_path: Path) -> None:
    code, envelope, _ = _compare(run_cli, "--csv", str(workload), "--out-dir", str(tmp_path / "o"))
    assert code == 2
    assert "the same" in envelope["detail"]


def test_configs_select_the_sides(run_cli: RunCli, workload: Path, tmp_path: Path) -> None:
    base = tmp_path / "base.toml"
    base.write_text('[replay]\nmode = "robinhood"\n')
    cand = tmp_path / "cand.toml"
    cand.write_text('[replay]\nmode = "compact"\n')
    code, result, _ = _compare(
        run_cli,
        "--csv",
        str(workload),
        "--baseline-config",
        str(base),
        "--candidate-config",
        str(cand),
        "--repeats",
        "2",
        "--out-dir",
        str(tmp_path / "o"),
    )
    assert code == 0
    backends = {run["side"]: run["final_backend"] for run in result["runs"]}
    assert backends == {"baseline": "robinhood", "candidate": "compact"}
