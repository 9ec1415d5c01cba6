"""Adversarial workloads from the command line: generate-csv's adversarial kinds, and the warning
run-csv and profile give when a workload's text keys target another str hash seed.

The seed checks run the CLI in a fresh interpreter with ``PYTHONHASHSEED`` set, because the test
process hashes str with a seed of its own.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from adhash.workload.adversarial import HASH_SEED_PROBE
from adhash.workload.format import WorkloadReader
from adhash.workload.generate import Manifest
from tests.cli.cli_harness import RunCli, error_envelope, run_python, success_envelope

SEED = 1234
TEXT_FLAGS = (
    "--ops",
    "600",
    "--adversarial-ratio",
    "0.5",
    "--adversarial-kind",
    "text",
    "--adversarial-hash-seed",
    str(SEED),
    "--adversarial-bits",
    "6",
    "--adversarial-keys",
    "30",
)
WARNING = (
    f"adhash: warning: this workload's text keys collide under PYTHONHASHSEED={SEED}, but this "
    "process hashes str with another seed: they will not collide here (rerun with "
    f"PYTHONHASHSEED={SEED})"
)


@pytest.fixture(scope="module")
def text_workload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workload whose adversarial text keys collide under PYTHONHASHSEED=SEED."""
    path = tmp_path_factory.mktemp("adversarial") / "w.csv"
    outcome = run_python("-m", "adhash_cli", "generate-csv", "--outfile", str(path), *TEXT_FLAGS)
    assert outcome.exit_code == 0, outcome.stderr
    return path


def _mismatched_copy(workload: Path, folder: Path) -> Path:
    """A copy of ``workload`` whose manifest records a probe hash no process can match."""
    copy = folder / "mismatched.csv"
    copy.write_bytes(workload.read_bytes())
    payload = orjson.loads(Manifest.path_for(workload).read_bytes())
    payload["hash_seed_probe"]["hash"] = hash(HASH_SEED_PROBE) + 1
    Manifest.path_for(copy).write_bytes(orjson.dumps(payload))
    return copy


# -- generate-csv -------------------------------------------------------------------------


def test_generate_csv_text_kind_reports_the_seed_probe(run_cli: RunCli, tmp_path: Path) -> None:
    outfile = tmp_path / "g.csv"
    envelope = success_envelope(
        run_cli("--json", "generate-csv", "--outfile", str(outfile), *TEXT_FLAGS), "generate-csv"
    )
    probe = envelope["hash_seed_probe"]
    assert (probe["seed"], probe["probe"]) == (SEED, HASH_SEED_PROBE)
    assert (envelope["adversarial_kind"], envelope["adversarial_hash_seed"]) == ("text", SEED)
    stored = orjson.loads(Manifest.path_for(outfile).read_bytes())
    assert stored["hash_seed_probe"] == probe


def test_generate_csv_text_kind_says_how_to_replay(run_cli: RunCli, tmp_path: Path) -> None:
    outfile = tmp_path / "g.csv"
    outcome = run_cli("generate-csv", "--outfile", str(outfile), *TEXT_FLAGS)
    assert outcome.exit_code == 0, outcome.stderr
    assert f"replay with PYTHONHASHSEED={SEED} adhash run-csv --csv {outfile}" in outcome.stdout


def test_generate_csv_low_bits_kind_writes_keys_sharing_low_bits(
    run_cli: RunCli, tmp_path: Path
) -> None:
    outfile = tmp_path / "g.csv"
    outcome = run_cli(
        "generate-csv",
        "--outfile",
        str(outfile),
        "--ops",
        "500",
        "--key-type",
        "int",
        "--read-ratio",
        "0",
        "--adversarial-ratio",
        "1",
        "--adversarial-kind",
        "low-bits",
        "--adversarial-bits",
        "16",
    )
    assert outcome.exit_code == 0, outcome.stderr
    with WorkloadReader(outfile, limits=None) as reader:
        keys = {key for _, _, key, _ in reader.rows()}
    assert {key & 0xFFFF for key in keys} == {0}
    assert len({hash(key) for key in keys}) == len(keys) > 100
    assert orjson.loads(Manifest.path_for(outfile).read_bytes())["hash_seed_probe"] is None


@pytest.mark.parametrize(
    ("flags", "detail"),
    [
        (("--adversarial-kind", "bogus"), "allowed one of full-hash, low-bits, text"),
        (("--adversarial-bits", "0"), "adversarial_bits=0 is out of range"),
        (("--adversarial-bits", "abc"), "--adversarial-bits"),
        (
            ("--adversarial-kind", "text", "--adversarial-hash-seed", "-1"),
            "adversarial_hash_seed=-1 is out of range",
        ),
        (
            ("--adversarial-kind", "text", "--adversarial-hash-seed", "4294967296"),
            "allowed an integer in [0, 4294967295]",
        ),
        (("--adversarial-kind", "text"), "needs adversarial_hash_seed"),
        (("--adversarial-hash-seed", "3"), "applies to adversarial_kind 'text' only"),
        (
            (
                "--adversarial-kind",
                "text",
                "--adversarial-hash-seed",
                "3",
                "--key-type",
                "int",
                "--adversarial-ratio",
                "0.1",
            ),
            "adversarial_kind 'text' needs key_type 'text'",
        ),
        (
            ("--adversarial-kind", "low-bits", "--adversarial-ratio", "0.1"),
            "adversarial_kind 'low-bits' needs key_type 'int'",
        ),
        (
            (
                "--adversarial-kind",
                "text",
                "--adversarial-hash-seed",
                "3",
                "--adversarial-bits",
                "22",
                "--adversarial-ratio",
                "0.1",
            ),
            "candidate strings, above the limit",
        ),
    ],
    ids=[
        "unknown-kind",
        "zero-bits",
        "bits-not-a-number",
        "negative-seed",
        "seed-too-big",
        "text-without-seed",
        "seed-without-text",
        "text-with-int-keys",
        "low-bits-with-text-keys",
        "search-too-long",
    ],
)
def test_generate_csv_bad_adversarial_flags_are_bad_input(
    run_cli: RunCli, tmp_path: Path, flags: tuple[str, ...], detail: str
) -> None:
    outcome = run_cli("--json", "generate-csv", "--outfile", str(tmp_path / "g.csv"), *flags)
    envelope = error_envelope(outcome, 2, "BadInput")
    assert detail in envelope["detail"]
    assert "Traceback" not in outcome.stderr
    assert list(tmp_path.iterdir()) == []


def test_generate_csv_bad_adversarial_flag_text_error_has_no_traceback(tmp_path: Path) -> None:
    outcome = run_python(
        "-m",
        "adhash_cli",
        "generate-csv",
        "--outfile",
        str(tmp_path / "g.csv"),
        "--adversarial-kind",
        "text",
    )
    assert outcome.exit_code == 2
    assert outcome.stderr.startswith("adhash: BadInput error: adversarial_kind 'text' needs")
    assert "Traceback" not in outcome.stderr


# -- run-csv and profile: the seed warning ------------------------------------------------


def test_run_csv_under_the_targeted_seed_does_not_warn(text_workload: Path) -> None:
    outcome = run_python(
        "-m",
        "adhash_cli",
        "--json",
        "run-csv",
        "--csv",
        str(text_workload),
        "--mode",
        "dict",
        env={"PYTHONHASHSEED": str(SEED)},
    )
    success_envelope(outcome, "run-csv")
    assert outcome.stderr == ""


def test_run_csv_under_another_seed_warns_and_still_runs(text_workload: Path) -> None:
    outcome = run_python(
        "-m",
        "adhash_cli",
        "run-csv",
        "--csv",
        str(text_workload),
        "--mode",
        "dict",
        "--no-progress",
        env={"PYTHONHASHSEED": str(SEED + 1)},
    )
    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.stderr.strip() == WARNING
    assert "operations in" in outcome.stdout


def test_run_csv_json_keeps_stdout_one_envelope_and_warns_on_stderr(text_workload: Path) -> None:
    outcome = run_python(
        "-m",
        "adhash_cli",
        "--json",
        "run-csv",
        "--csv",
        str(text_workload),
        "--mode",
        "dict",
        env={"PYTHONHASHSEED": "0"},
    )
    success_envelope(outcome, "run-csv")
    assert outcome.stderr.strip() == WARNING


def test_run_csv_dry_run_does_not_warn(
    run_cli: RunCli, text_workload: Path, tmp_path: Path
) -> None:
    mismatched = _mismatched_copy(text_workload, tmp_path)
    outcome = run_cli("run-csv", "--csv", str(mismatched), "--dry-run")
    assert outcome.exit_code == 0
    assert outcome.stderr == ""


def test_run_csv_warns_in_process_for_a_mismatched_probe(
    run_cli: RunCli, text_workload: Path, tmp_path: Path
) -> None:
    outcome = run_cli(
        "run-csv", "--csv", str(_mismatched_copy(text_workload, tmp_path)), "--no-progress"
    )
    assert outcome.exit_code == 0, outcome.stderr
    assert f"collide under PYTHONHASHSEED={SEED}" in outcome.stderr


@pytest.mark.parametrize("manifest", [None, b"{broken", b'{"schema": "other"}'])
def test_run_csv_ignores_a_missing_or_broken_manifest(
    run_cli: RunCli, text_workload: Path, tmp_path: Path, manifest: bytes | None
) -> None:
    copy = tmp_path / "w.csv"
    copy.write_bytes(text_workload.read_bytes())
    if manifest is not None:
        Manifest.path_for(copy).write_bytes(manifest)
    outcome = run_cli("--json", "run-csv", "--csv", str(copy), "--mode", "dict")
    success_envelope(outcome, "run-csv")
    assert outcome.stderr == ""


def test_profile_warns_for_a_mismatched_probe(
    run_cli: RunCli, text_workload: Path, tmp_path: Path
) -> None:
    outcome = run_cli(
        "--json",
        "profile",
        "--csv",
        str(_mismatched_copy(text_workload, tmp_path)),
        "--sample-rows",
        "200",
        "--repeats",
        "1",
    )
    success_envelope(outcome, "profile")
    assert f"adhash: warning: this workload's text keys collide under PYTHONHASHSEED={SEED}" in (
        outcome.stderr
    )
