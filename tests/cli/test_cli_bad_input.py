"""Every ``adhash`` command fed bad input: missing files, a folder where a file belongs, malformed
content, out-of-range and unknown flags, a missing ``--config``.

Each case of the table runs with ``--json`` in a working folder that holds every input file and
receives every output path. It must end with its documented exit code, nothing on stdout, exactly
one JSON error envelope on stderr and no traceback; and the folder must come out of the run with
no file created, changed or deleted. A command without a case fails the coverage test.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import orjson
import pytest
import typer

from adhash.replay import build_map
from adhash.snapshot import save
from adhash.workload.format import Op, WorkloadWriter
from adhash_cli.app import create_app
from tests.cli.cli_harness import RunCli

TRAILER_BYTES = 8 + 32
"""The snapshot trailer: its magic and checksum (see docs/snapshots.md)."""


class Case(NamedTuple):
    """One bad run: the arguments after ``--json`` (built from the working folder) and what it
    must end with."""

    id: str
    argv: Callable[[Path], list[str]]
    exit_code: int
    kind: str
    detail: str
    """A substring of the envelope's ``detail``."""


BAD, INVARIANT, POLICY, IO = 2, 3, 4, 5

SERVE = ["serve", "--duration", "0", "--port", "0"]
"""``serve`` that stops at once on a free port should a case not fail (a later flag wins)."""


PROBE_GET = ["probe-visualize", "--operation", "get", "--key", "k"]
PROBE_PUT = ["probe-visualize", "--operation", "put", "--key", "k"]


def _ab(d: Path) -> list[str]:
    """``ab-compare`` writing into the working folder, with sides that differ."""
    return ["ab-compare", "--out-dir", f"{d}/ab", "--candidate-mode", "chaining"]


def _snapshot_store(path: Path) -> None:
    m = build_map("adaptive")
    m["k"] = "v"
    m["j"] = "w"
    save(m, path)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The working folder's contents, built once: valid and broken inputs of every kind."""
    root = tmp_path_factory.mktemp("bad-input-template")
    with WorkloadWriter(root / "w.csv") as writer:
        writer.write_many((Op.PUT, f"K{i % 30}", f"v{i}") for i in range(60))
        writer.write_many((Op.GET, f"K{i % 40}", None) for i in range(40))
    (root / "bad-row.csv").write_text("op,key,value\nput,a,1\npur,a,1\n")
    (root / "bad-header.csv").write_text("opx,key,value\nput,a,1\n")
    _snapshot_store(root / "store.adh")
    data = (root / "store.adh").read_bytes()
    (root / "truncated.adh").write_bytes(data[: len(data) // 2])
    damaged = bytearray(data)
    damaged[-TRAILER_BYTES - 1] ^= 0xFF
    (root / "damaged.adh").write_bytes(bytes(damaged))
    (root / "garbage.adh").write_bytes(b"this is not a snapshot\n" * 20)
    (root / "ok.toml").write_text("[adaptive]\nmigration_batch = 32\n")
    (root / "syntax.toml").write_text("[adaptive\nmigration_batch = 32\n")
    (root / "bad-value.toml").write_text("[adaptive]\nmigration_batch = 0\n")
    (root / "unknown-key.toml").write_text("[adaptive]\nmigraton_batch = 32\n")
    (root / "array.json").write_text("[1, 2]\n")
    (root / "empty.ndjson").write_bytes(b"")
    (root / "adir").mkdir()
    return root


@pytest.fixture
def workdir(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh copy of the template, as the current folder, holding the presets folder too;
    stdin is empty, so that a command that prompts reads the end of its input."""
    folder = tmp_path / "work"
    shutil.copytree(template, folder)
    monkeypatch.chdir(folder)
    monkeypatch.setenv("ADHASH_PRESETS_DIR", str(folder / "presets"))
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    return folder


def _tree(root: Path) -> dict[str, str]:
    """Every entry under ``root``: a folder as ``<dir>``, a file as the sha256 of its bytes."""
    return {
        str(path.relative_to(root)): "<dir>"
        if path.is_dir()
        else hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
    }


CASES = [
    # -- info ----------------------------------------------------------------------------------
    Case("info/unknown-flag", lambda d: ["info", "--bogus"], BAD, "BadInput", "--bogus"),
    Case("info/extra-argument", lambda d: ["info", "extra"], BAD, "BadInput", "extra"),
    # -- config (the group) --------------------------------------------------------------------
    Case("config/unknown-subcommand", lambda d: ["config", "nosuch"], BAD, "BadInput", "nosuch"),
    # -- config show ---------------------------------------------------------------------------
    Case(
        "config-show/missing-config",
        lambda d: ["config", "show", "--config", f"{d}/missing.toml"],
        IO,
        "IO",
        "missing.toml",
    ),
    Case(
        "config-show/config-is-a-directory",
        lambda d: ["config", "show", "--config", f"{d}/adir"],
        IO,
        "IO",
        "is a directory",
    ),
    Case(
        "config-show/config-bad-syntax",
        lambda d: ["config", "show", "--config", f"{d}/syntax.toml"],
        BAD,
        "BadInput",
        "invalid TOML",
    ),
    Case(
        "config-show/config-bad-value",
        lambda d: ["config", "show", "--config", f"{d}/bad-value.toml"],
        BAD,
        "BadInput",
        "adaptive.migration_batch = 0",
    ),
    Case(
        "config-show/config-unknown-key",
        lambda d: ["config", "show", "--config", f"{d}/unknown-key.toml"],
        BAD,
        "BadInput",
        "did you mean adaptive.migration_batch?",
    ),
    Case(
        "config-show/set-unknown-key",
        lambda d: ["config", "show", "--set", "adaptive.migraton_batch=1"],
        BAD,
        "BadInput",
        "did you mean adaptive.migration_batch?",
    ),
    Case(
        "config-show/set-not-key-value",
        lambda d: ["config", "show", "--set", "replay.mode"],
        BAD,
        "BadInput",
        "is not KEY=VALUE",
    ),
    Case(
        "config-show/set-out-of-range",
        lambda d: ["config", "show", "--set", "replay.warmup_ops=-1"],
        BAD,
        "BadInput",
        "replay.warmup_ops",
    ),
    Case(
        "config-show/unknown-flag",
        lambda d: ["config", "show", "--bogus"],
        BAD,
        "BadInput",
        "--bogus",
    ),
    # -- config schema -------------------------------------------------------------------------
    Case(
        "config-schema/unknown-flag",
        lambda d: ["config", "schema", "--bogus"],
        BAD,
        "BadInput",
        "--bogus",
    ),
    Case(
        "config-schema/extra-argument",
        lambda d: ["config", "schema", "extra"],
        BAD,
        "BadInput",
        "extra",
    ),
    # -- config-wizard -------------------------------------------------------------------------
    Case(
        "config-wizard/from-missing-file",
        lambda d: ["config-wizard", "--outfile", f"{d}/new.toml", "--from", f"{d}/missing.toml"],
        IO,
        "IO",
        "missing.toml",
    ),
    Case(
        "config-wizard/from-a-directory",
        lambda d: ["config-wizard", "--outfile", f"{d}/new.toml", "--from", f"{d}/adir"],
        IO,
        "IO",
        "is a directory",
    ),
    Case(
        "config-wizard/from-bad-syntax",
        lambda d: ["config-wizard", "--outfile", f"{d}/new.toml", "--from", f"{d}/syntax.toml"],
        BAD,
        "BadInput",
        "invalid TOML",
    ),
    Case(
        "config-wizard/from-bad-value",
        lambda d: [
            "config-wizard",
            "--outfile",
            f"{d}/new.toml",
            "--from",
            f"{d}/bad-value.toml",
            "--defaults",
        ],
        BAD,
        "BadInput",
        "adaptive.migration_batch",
    ),
    Case(
        "config-wizard/unknown-section",
        lambda d: ["config-wizard", "--outfile", f"{d}/new.toml", "--section", "cache"],
        BAD,
        "BadInput",
        "unknown section 'cache'",
    ),
    Case(
        "config-wizard/outfile-exists",
        lambda d: ["config-wizard", "--outfile", f"{d}/ok.toml", "--defaults"],
        POLICY,
        "Policy",
        "already exists",
    ),
    Case(
        "config-wizard/outfile-is-a-directory",
        lambda d: ["config-wizard", "--outfile", f"{d}/adir", "--defaults", "--force"],
        IO,
        "IO",
        "adir",
    ),
    Case(
        "config-wizard/unknown-flag",
        lambda d: ["config-wizard", "--outfile", f"{d}/new.toml", "--bogus"],
        BAD,
        "BadInput",
        "--bogus",
    ),
    # -- config-edit ---------------------------------------------------------------------------
    Case(
        "config-edit/infile-is-a-directory",
        lambda d: ["config-edit", "--infile", f"{d}/adir", "--set", "replay.mode=dict"],
        IO,
        "IO",
        "is a directory",
    ),
    Case(
        "config-edit/infile-bad-syntax",
        lambda d: ["config-edit", "--infile", f"{d}/syntax.toml", "--set", "replay.mode=dict"],
        BAD,
        "BadInput",
        "invalid TOML",
    ),
    Case(
        "config-edit/infile-bad-value",
        lambda d: ["config-edit", "--infile", f"{d}/bad-value.toml", "--set", "replay.mode=dict"],
        BAD,
        "BadInput",
        "adaptive.migration_batch",
    ),
    Case(
        "config-edit/set-unknown-key",
        lambda d: ["config-edit", "--infile", f"{d}/ok.toml", "--set", "adaptive.migraton_batch=1"],
        BAD,
        "BadInput",
        "did you mean adaptive.migration_batch?",
    ),
    Case(
        "config-edit/set-out-of-range",
        lambda d: [
            "config-edit",
            "--infile",
            f"{d}/ok.toml",
            "--set",
            "adaptive.migration_batch=0",
        ],
        BAD,
        "BadInput",
        "adaptive.migration_batch",
    ),
    Case(
        "config-edit/set-out-of-range-on-a-new-file",
        lambda d: ["config-edit", "--infile", f"{d}/new.toml", "--set", "replay.warmup_ops=-1"],
        BAD,
        "BadInput",
        "replay.warmup_ops",
    ),
    Case(
        "config-edit/preset-file-missing",
        lambda d: [
            "config-edit",
            "--infile",
            f"{d}/ok.toml",
            "--apply-preset",
            f"{d}/missing.toml",
        ],
        IO,
        "IO",
        "missing.toml",
    ),
    Case(
        "config-edit/preset-file-bad-syntax",
        lambda d: ["config-edit", "--infile", f"{d}/ok.toml", "--apply-preset", f"{d}/syntax.toml"],
        BAD,
        "BadInput",
        "invalid TOML",
    ),
    Case(
        "config-edit/preset-unknown",
        lambda d: ["config-edit", "--infile", f"{d}/ok.toml", "--apply-preset", "speedy"],
        BAD,
        "BadInput",
        "preset 'speedy' not found",
    ),
    Case(
        "config-edit/invalid-preset-name",
        lambda d: ["config-edit", "--infile", f"{d}/ok.toml", "--save-preset", "My Preset!"],
        BAD,
        "BadInput",
        "invalid preset name",
    ),
    Case(
        "config-edit/presets-dir-is-a-file",
        lambda d: ["config-edit", "--save-preset", "mine", "--presets-dir", f"{d}/ok.toml"],
        IO,
        "IO",
        "ok.toml",
    ),
    Case(
        "config-edit/list-presets-with-set",
        lambda d: ["config-edit", "--list-presets", "--set", "replay.mode=dict"],
        BAD,
        "BadInput",
        "--list-presets takes no other action",
    ),
    Case(
        "config-edit/nothing-to-write",
        lambda d: ["config-edit", "--set", "replay.mode=dict"],
        BAD,
        "BadInput",
        "nothing to write",
    ),
    Case(
        "config-edit/outfile-exists",
        lambda d: [
            "config-edit",
            "--infile",
            f"{d}/ok.toml",
            "--outfile",
            f"{d}/syntax.toml",
            "--set",
            "replay.mode=dict",
        ],
        POLICY,
        "Policy",
        "already exists",
    ),
    Case(
        "config-edit/unknown-flag",
        lambda d: ["config-edit", "--infile", f"{d}/ok.toml", "--bogus"],
        BAD,
        "BadInput",
        "--bogus",
    ),
    # -- generate-csv --------------------------------------------------------------------------
    Case(
        "generate-csv/zero-ops",
        lambda d: ["generate-csv", "--outfile", f"{d}/g.csv", "--ops", "0"],
        BAD,
        "BadInput",
        "ops",
    ),
    Case(
        "generate-csv/read-ratio-above-one",
        lambda d: ["generate-csv", "--outfile", f"{d}/g.csv", "--read-ratio", "2"],
        BAD,
        "BadInput",
        "read_ratio",
    ),
    Case(
        "generate-csv/unknown-distribution",
        lambda d: ["generate-csv", "--outfile", f"{d}/g.csv", "--distribution", "gaussian"],
        BAD,
        "BadInput",
        "distribution",
    ),
    Case(
        "generate-csv/outfile-is-a-directory",
        lambda d: ["generate-csv", "--outfile", f"{d}/adir", "--ops", "10"],
        IO,
        "IO",
        "adir",
    ),
    Case(
        "generate-csv/missing-outfile-option",
        lambda d: ["generate-csv", "--ops", "10"],
        BAD,
        "BadInput",
        "--outfile",
    ),
    Case(
        "generate-csv/unknown-flag",
        lambda d: ["generate-csv", "--outfile", f"{d}/g.csv", "--bogus"],
        BAD,
        "BadInput",
        "--bogus",
    ),
    # -- run-csv -------------------------------------------------------------------------------
    Case(
        "run-csv/missing-csv",
        lambda d: ["run-csv", "--csv", f"{d}/missing.csv"],
        IO,
        "IO",
        "missing.csv",
    ),
    Case(
        "run-csv/csv-is-a-directory",
        lambda d: ["run-csv", "--csv", f"{d}/adir"],
        IO,
        "IO",
        "is a directory",
    ),
    Case(
        "run-csv/bad-row",
        lambda d: ["run-csv", "--csv", f"{d}/bad-row.csv"],
        BAD,
        "BadInput",
        "line 3: unknown op 'pur'",
    ),
    Case(
        "run-csv/bad-header",
        lambda d: ["run-csv", "--csv", f"{d}/bad-header.csv", "--dry-run"],
        BAD,
        "BadInput",
        "line 1: header",
    ),
    Case(
        "run-csv/bad-row-with-every-output",
        lambda d: [
            "run-csv",
            "--csv",
            f"{d}/bad-row.csv",
            "--json-summary-out",
            f"{d}/summary.json",
            "--metrics-out-dir",
            f"{d}/metrics",
            "--snapshot-out",
            f"{d}/out.adh",
        ],
        BAD,
        "BadInput",
        "unknown op 'pur'",
    ),
    Case(
        "run-csv/zero-latency-sample-every",
        lambda d: ["run-csv", "--csv", f"{d}/w.csv", "--latency-sample-every", "0"],
        BAD,
        "BadInput",
        "--latency-sample-every",
    ),
    Case(
        "run-csv/zero-tick-interval",
        lambda d: ["run-csv", "--csv", f"{d}/w.csv", "--tick-interval", "0"],
        BAD,
        "BadInput",
        "--tick-interval",
    ),
    Case(
        "run-csv/zero-percentile",
        lambda d: ["run-csv", "--csv", f"{d}/w.csv", "--percentiles", "0"],
        BAD,
        "BadInput",
        "replay.percentiles",
    ),
    Case(
        "run-csv/negative-warmup-ops",
        lambda d: ["run-csv", "--csv", f"{d}/w.csv", "--warmup-ops", "-1"],
        BAD,
        "BadInput",
        "--warmup-ops",
    ),
    Case(
        "run-csv/zero-target-rate",
        lambda d: ["run-csv", "--csv", f"{d}/w.csv", "--target-rate", "0"],
        BAD,
        "BadInput",
        "--target-rate",
    ),
    Case(
        "run-csv/negative-hash-seed",
        lambda d: ["run-csv", "--csv", f"{d}/w.csv", "--hash-seed", "-1"],
        BAD,
        "BadInput",
        "--hash-seed",
    ),
    Case(
        "run-csv/unknown-mode",
        lambda d: ["run-csv", "--csv", f"{d}/w.csv", "--mode", "quantum"],
        BAD,
        "BadInput",
        "replay.mode",
    ),
    Case(
        "run-csv/set-out-of-range",
        lambda d: ["run-csv", "--csv", f"{d}/w.csv", "--set", "replay.warmup_ops=-1"],
        BAD,
        "BadInput",
        "replay.warmup_ops",
    ),
    Case(
        "run-csv/mode-given-by-flag-and-set",
        lambda d: [
            "run-csv",
            "--csv",
            f"{d}/w.csv",
            "--set",
            "replay.mode=robinhood",
            "--mode",
            "chaining",
        ],
        BAD,
        "BadInput",
        "given twice",
    ),
    Case(
        "run-csv/over-the-row-limit",
        lambda d: ["run-csv", "--csv", f"{d}/w.csv", "--csv-max-rows", "5"],
        BAD,
        "BadInput",
        "more than 5 rows",
    ),
    Case(
        "run-csv/negative-row-limit",
        lambda d: ["run-csv", "--csv", f"{d}/w.csv", "--csv-max-rows", "-1"],
        BAD,
        "BadInput",
        "--csv-max-rows",
    ),
    Case(
        "run-csv/missing-config",
        lambda d: ["run-csv", "--csv", f"{d}/w.csv", "--config", f"{d}/missing.toml"],
        IO,
        "IO",
        "missing.toml",
    ),
    Case(
        "run-csv/config-bad-syntax",
        lambda d: ["run-csv", "--csv", f"{d}/w.csv", "--config", f"{d}/syntax.toml"],
        BAD,
        "BadInput",
        "invalid TOML",
    ),
    Case(
        "run-csv/snapshot-in-missing",
        lambda d: ["run-csv", "--csv", f"{d}/w.csv", "--snapshot-in", f"{d}/missing.adh"],
        IO,
        "IO",
        "missing.adh",
    ),
    Case(
        "run-csv/snapshot-in-garbage",
        lambda d: [
            "run-csv",
            "--csv",
            f"{d}/w.csv",
            "--snapshot-in",
            f"{d}/garbage.adh",
            "--snapshot-out",
            f"{d}/out.adh",
        ],
        BAD,
        "BadInput",
        "bad magic",
    ),
    Case(
        "run-csv/snapshot-in-damaged",
        lambda d: [
            "run-csv",
            "--csv",
            f"{d}/w.csv",
            "--snapshot-in",
            f"{d}/damaged.adh",
            "--snapshot-out",
            f"{d}/damaged.adh",
        ],
        INVARIANT,
        "Invariant",
        "checksum mismatch",
    ),
    Case(
        "run-csv/hash-seed-with-snapshot-in",
        lambda d: [
            "run-csv",
            "--csv",
            f"{d}/w.csv",
            "--snapshot-in",
            f"{d}/store.adh",
            "--hash-seed",
            "3",
        ],
        BAD,
        "BadInput",
        "--hash-seed",
    ),
    Case(
        "run-csv/metrics-port-out-of-range",
        lambda d: ["run-csv", "--csv", f"{d}/w.csv", "--metrics-port", "99999"],
        BAD,
        "BadInput",
        "--metrics-port",
    ),
    Case(
        "run-csv/negative-metrics-linger",
        lambda d: ["run-csv", "--csv", f"{d}/w.csv", "--metrics-linger", "-1"],
        BAD,
        "BadInput",
        "--metrics-linger",
    ),
    Case(
        "run-csv/unknown-flag",
        lambda d: ["run-csv", "--csv", f"{d}/w.csv", "--bogus"],
        BAD,
        "BadInput",
        "--bogus",
    ),
    # -- profile -------------------------------------------------------------------------------
    Case(
        "profile/missing-csv",
        lambda d: ["profile", "--csv", f"{d}/missing.csv"],
        IO,
        "IO",
        "missing.csv",
    ),
    Case(
        "profile/csv-is-a-directory",
        lambda d: ["profile", "--csv", f"{d}/adir"],
        IO,
        "IO",
        "is a directory",
    ),
    Case(
        "profile/bad-row",
        lambda d: ["profile", "--csv", f"{d}/bad-row.csv"],
        BAD,
        "BadInput",
        "unknown op 'pur'",
    ),
    Case(
        "profile/zero-repeats",
        lambda d: ["profile", "--csv", f"{d}/w.csv", "--repeats", "0"],
        BAD,
        "BadInput",
        "--repeats",
    ),
    Case(
        "profile/zero-sample-rows",
        lambda d: ["profile", "--csv", f"{d}/w.csv", "--sample-rows", "0"],
        BAD,
        "BadInput",
        "--sample-rows",
    ),
    Case(
        "profile/empty-then",
        lambda d: ["profile", "--csv", f"{d}/w.csv", "--repeats", "1", "--then", ""],
        BAD,
        "BadInput",
        "--then",
    ),
    Case(
        "profile/missing-config",
        lambda d: ["profile", "--csv", f"{d}/w.csv", "--config", f"{d}/missing.toml"],
        IO,
        "IO",
        "missing.toml",
    ),
    Case(
        "profile/set-out-of-range",
        lambda d: ["profile", "--csv", f"{d}/w.csv", "--set", "maps.chaining_buckets=3"],
        BAD,
        "BadInput",
        "maps.chaining_buckets",
    ),
    Case(
        "profile/unknown-flag",
        lambda d: ["profile", "--csv", f"{d}/w.csv", "--bogus"],
        BAD,
        "BadInput",
        "--bogus",
    ),
    # -- workload-dna --------------------------------------------------------------------------
    Case(
        "workload-dna/missing-csv",
        lambda d: ["workload-dna", "--csv", f"{d}/missing.csv"],
        IO,
        "IO",
        "missing.csv",
    ),
    Case(
        "workload-dna/csv-is-a-directory",
        lambda d: ["workload-dna", "--csv", f"{d}/adir"],
        IO,
        "IO",
        "is a directory",
    ),
    Case(
        "workload-dna/bad-row-with-json-out",
        lambda d: ["workload-dna", "--csv", f"{d}/bad-row.csv", "--json-out", f"{d}/dna.json"],
        BAD,
        "BadInput",
        "unknown op 'pur'",
    ),
    Case(
        "workload-dna/bad-header",
        lambda d: ["workload-dna", "--csv", f"{d}/bad-header.csv"],
        BAD,
        "BadInput",
        "header",
    ),
    Case(
        "workload-dna/zero-top-keys",
        lambda d: ["workload-dna", "--csv", f"{d}/w.csv", "--top-keys", "0"],
        BAD,
        "BadInput",
        "--top-keys",
    ),
    Case(
        "workload-dna/zero-max-tracked-keys",
        lambda d: ["workload-dna", "--csv", f"{d}/w.csv", "--max-tracked-keys", "0"],
        BAD,
        "BadInput",
        "--max-tracked-keys",
    ),
    Case(
        "workload-dna/unknown-flag",
        lambda d: ["workload-dna", "--csv", f"{d}/w.csv", "--bogus"],
        BAD,
        "BadInput",
        "--bogus",
    ),
    # -- demo ----------------------------------------------------------------------------------
    Case(
        "demo/zero-ops",
        lambda d: ["demo", "--out-dir", f"{d}/demo", "--ops", "0"],
        BAD,
        "BadInput",
        "--ops",
    ),
    Case(
        "demo/zero-key-space",
        lambda d: ["demo", "--out-dir", f"{d}/demo", "--key-space", "0"],
        BAD,
        "BadInput",
        "--key-space",
    ),
    Case(
        "demo/read-ratio-above-one",
        lambda d: ["demo", "--out-dir", f"{d}/demo", "--read-ratio", "1.5"],
        BAD,
        "BadInput",
        "--read-ratio",
    ),
    Case(
        "demo/missing-config",
        lambda d: ["demo", "--out-dir", f"{d}/demo", "--config", f"{d}/missing.toml"],
        IO,
        "IO",
        "missing.toml",
    ),
    Case(
        "demo/config-bad-value",
        lambda d: ["demo", "--out-dir", f"{d}/demo", "--config", f"{d}/bad-value.toml"],
        BAD,
        "BadInput",
        "adaptive.migration_batch",
    ),
    Case(
        "demo/set-out-of-range",
        lambda d: ["demo", "--out-dir", f"{d}/demo", "--set", "replay.warmup_ops=-1"],
        BAD,
        "BadInput",
        "replay.warmup_ops",
    ),
    Case(
        "demo/out-dir-is-a-file",
        lambda d: ["demo", "--out-dir", f"{d}/w.csv", "--ops", "50", "--key-space", "10"],
        IO,
        "IO",
        "w.csv",
    ),
    Case(
        "demo/unknown-flag",
        lambda d: ["demo", "--out-dir", f"{d}/demo", "--bogus"],
        BAD,
        "BadInput",
        "--bogus",
    ),
    # -- inspect-snapshot ----------------------------------------------------------------------
    Case(
        "inspect-snapshot/missing-file",
        lambda d: ["inspect-snapshot", "--in", f"{d}/missing.adh"],
        IO,
        "IO",
        "missing.adh",
    ),
    Case(
        "inspect-snapshot/a-directory",
        lambda d: ["inspect-snapshot", "--in", f"{d}/adir"],
        IO,
        "IO",
        "is a directory",
    ),
    Case(
        "inspect-snapshot/garbage",
        lambda d: ["inspect-snapshot", "--in", f"{d}/garbage.adh"],
        BAD,
        "BadInput",
        "bad magic",
    ),
    Case(
        "inspect-snapshot/a-workload-csv",
        lambda d: ["inspect-snapshot", "--in", f"{d}/w.csv"],
        BAD,
        "BadInput",
        "bad magic",
    ),
    Case(
        "inspect-snapshot/truncated",
        lambda d: ["inspect-snapshot", "--in", f"{d}/truncated.adh"],
        BAD,
        "BadInput",
        "truncated",
    ),
    Case(
        "inspect-snapshot/damaged",
        lambda d: ["inspect-snapshot", "--in", f"{d}/damaged.adh"],
        INVARIANT,
        "Invariant",
        "checksum mismatch",
    ),
    Case(
        "inspect-snapshot/negative-limit",
        lambda d: ["inspect-snapshot", "--in", f"{d}/store.adh", "--limit", "-1"],
        BAD,
        "BadInput",
        "--limit",
    ),
    Case(
        "inspect-snapshot/int-key-without-key",
        lambda d: ["inspect-snapshot", "--in", f"{d}/store.adh", "--int-key"],
        BAD,
        "BadInput",
        "--int-key needs --key",
    ),
    Case(
        "inspect-snapshot/int-key-not-an-integer",
        lambda d: ["inspect-snapshot", "--in", f"{d}/store.adh", "--key", "x", "--int-key"],
        BAD,
        "BadInput",
        "not an integer",
    ),
    Case(
        "inspect-snapshot/over-a-configured-limit",
        lambda d: [
            "inspect-snapshot",
            "--in",
            f"{d}/store.adh",
            "--set",
            "snapshot.max_entries=1",
        ],
        BAD,
        "BadInput",
        "2 entries",
    ),
    Case(
        "inspect-snapshot/missing-config",
        lambda d: ["inspect-snapshot", "--in", f"{d}/store.adh", "--config", f"{d}/missing.toml"],
        IO,
        "IO",
        "missing.toml",
    ),
    # -- verify-snapshot -----------------------------------------------------------------------
    Case(
        "verify-snapshot/missing-file",
        lambda d: ["verify-snapshot", "--in", f"{d}/missing.adh"],
        IO,
        "IO",
        "missing.adh",
    ),
    Case(
        "verify-snapshot/a-directory",
        lambda d: ["verify-snapshot", "--in", f"{d}/adir"],
        IO,
        "IO",
        "is a directory",
    ),
    Case(
        "verify-snapshot/garbage",
        lambda d: ["verify-snapshot", "--in", f"{d}/garbage.adh"],
        INVARIANT,
        "Invariant",
        "bad magic",
    ),
    Case(
        "verify-snapshot/truncated",
        lambda d: ["verify-snapshot", "--in", f"{d}/truncated.adh"],
        INVARIANT,
        "Invariant",
        "truncated",
    ),
    Case(
        "verify-snapshot/damaged",
        lambda d: ["verify-snapshot", "--in", f"{d}/damaged.adh"],
        INVARIANT,
        "Invariant",
        "checksum mismatch",
    ),
    Case(
        "verify-snapshot/repair-without-out",
        lambda d: ["verify-snapshot", "--in", f"{d}/damaged.adh", "--repair"],
        BAD,
        "BadInput",
        "--repair and --out go together",
    ),
    Case(
        "verify-snapshot/repair-onto-its-input",
        lambda d: [
            "verify-snapshot",
            "--in",
            f"{d}/damaged.adh",
            "--repair",
            "--out",
            f"{d}/damaged.adh",
        ],
        BAD,
        "BadInput",
        "--out must differ from --in",
    ),
    Case(
        "verify-snapshot/repair-garbage",
        lambda d: [
            "verify-snapshot",
            "--in",
            f"{d}/garbage.adh",
            "--repair",
            "--out",
            f"{d}/repaired.adh",
        ],
        BAD,
        "BadInput",
        "bad magic",
    ),
    Case(
        "verify-snapshot/missing-config",
        lambda d: ["verify-snapshot", "--in", f"{d}/store.adh", "--config", f"{d}/missing.toml"],
        IO,
        "IO",
        "missing.toml",
    ),
    Case(
        "verify-snapshot/unknown-flag",
        lambda d: ["verify-snapshot", "--in", f"{d}/store.adh", "--bogus"],
        BAD,
        "BadInput",
        "--bogus",
    ),
    # -- compact-snapshot ----------------------------------------------------------------------
    Case(
        "compact-snapshot/missing-file",
        lambda d: ["compact-snapshot", "--in", f"{d}/missing.adh", "--out", f"{d}/c.adh"],
        IO,
        "IO",
        "missing.adh",
    ),
    Case(
        "compact-snapshot/a-directory",
        lambda d: ["compact-snapshot", "--in", f"{d}/adir", "--out", f"{d}/c.adh"],
        IO,
        "IO",
        "is a directory",
    ),
    Case(
        "compact-snapshot/garbage",
        lambda d: ["compact-snapshot", "--in", f"{d}/garbage.adh", "--out", f"{d}/c.adh"],
        BAD,
        "BadInput",
        "bad magic",
    ),
    Case(
        "compact-snapshot/damaged-onto-itself",
        lambda d: ["compact-snapshot", "--in", f"{d}/damaged.adh", "--out", f"{d}/damaged.adh"],
        INVARIANT,
        "Invariant",
        "checksum mismatch",
    ),
    Case(
        "compact-snapshot/out-is-a-directory",
        lambda d: ["compact-snapshot", "--in", f"{d}/store.adh", "--out", f"{d}/adir"],
        IO,
        "IO",
        "adir",
    ),
    Case(
        "compact-snapshot/missing-out-option",
        lambda d: ["compact-snapshot", "--in", f"{d}/store.adh"],
        BAD,
        "BadInput",
        "--out",
    ),
    Case(
        "compact-snapshot/missing-config",
        lambda d: [
            "compact-snapshot",
            "--in",
            f"{d}/store.adh",
            "--out",
            f"{d}/c.adh",
            "--config",
            f"{d}/missing.toml",
        ],
        IO,
        "IO",
        "missing.toml",
    ),
    # -- put -----------------------------------------------------------------------------------
    Case(
        "put/store-is-a-directory",
        lambda d: ["put", "--store", f"{d}/adir", "k", "v"],
        IO,
        "IO",
        "is a directory",
    ),
    Case(
        "put/store-is-garbage",
        lambda d: ["put", "--store", f"{d}/garbage.adh", "k", "v"],
        BAD,
        "BadInput",
        "bad magic",
    ),
    Case(
        "put/store-is-truncated",
        lambda d: ["put", "--store", f"{d}/truncated.adh", "k", "v"],
        BAD,
        "BadInput",
        "truncated",
    ),
    Case(
        "put/store-is-damaged",
        lambda d: ["put", "--store", f"{d}/damaged.adh", "k", "v"],
        INVARIANT,
        "Invariant",
        "checksum mismatch",
    ),
    Case(
        "put/int-key-not-an-integer",
        lambda d: ["put", "--store", f"{d}/store.adh", "--int-key", "x", "v"],
        BAD,
        "BadInput",
        "not an integer",
    ),
    Case(
        "put/unknown-mode-for-a-new-store",
        lambda d: ["put", "--store", f"{d}/new.adh", "--mode", "quantum", "k", "v"],
        BAD,
        "BadInput",
        "replay.mode",
    ),
    Case(
        "put/mode-for-an-existing-store",
        lambda d: ["put", "--store", f"{d}/store.adh", "--mode", "chaining", "k", "v"],
        BAD,
        "BadInput",
        "applies only when put creates a store",
    ),
    Case(
        "put/set-out-of-range-for-a-new-store",
        lambda d: [
            "put",
            "--store",
            f"{d}/new.adh",
            "--set",
            "snapshot.compression_level=99",
            "k",
            "v",
        ],
        BAD,
        "BadInput",
        "snapshot.compression_level",
    ),
    Case(
        "put/missing-config",
        lambda d: ["put", "--store", f"{d}/new.adh", "--config", f"{d}/missing.toml", "k", "v"],
        IO,
        "IO",
        "missing.toml",
    ),
    Case(
        "put/missing-value-argument",
        lambda d: ["put", "--store", f"{d}/new.adh", "k"],
        BAD,
        "BadInput",
        "Missing argument 'value'",
    ),
    # -- get -----------------------------------------------------------------------------------
    Case(
        "get/missing-store",
        lambda d: ["get", "--store", f"{d}/missing.adh", "k"],
        IO,
        "IO",
        "store not found",
    ),
    Case(
        "get/store-is-a-directory",
        lambda d: ["get", "--store", f"{d}/adir", "k"],
        IO,
        "IO",
        "is a directory",
    ),
    Case(
        "get/store-is-garbage",
        lambda d: ["get", "--store", f"{d}/garbage.adh", "k"],
        BAD,
        "BadInput",
        "bad magic",
    ),
    Case(
        "get/store-is-damaged",
        lambda d: ["get", "--store", f"{d}/damaged.adh", "k"],
        INVARIANT,
        "Invariant",
        "checksum mismatch",
    ),
    Case(
        "get/int-key-not-an-integer",
        lambda d: ["get", "--store", f"{d}/store.adh", "--int-key", "x"],
        BAD,
        "BadInput",
        "not an integer",
    ),
    Case(
        "get/missing-config",
        lambda d: ["get", "--store", f"{d}/store.adh", "--config", f"{d}/missing.toml", "k"],
        IO,
        "IO",
        "missing.toml",
    ),
    Case(
        "get/missing-key-argument",
        lambda d: ["get", "--store", f"{d}/store.adh"],
        BAD,
        "BadInput",
        "Missing argument 'key'",
    ),
    # -- del -----------------------------------------------------------------------------------
    Case(
        "del/missing-store",
        lambda d: ["del", "--store", f"{d}/missing.adh", "k"],
        IO,
        "IO",
        "store not found",
    ),
    Case(
        "del/store-is-a-directory",
        lambda d: ["del", "--store", f"{d}/adir", "k"],
        IO,
        "IO",
        "is a directory",
    ),
    Case(
        "del/store-is-garbage",
        lambda d: ["del", "--store", f"{d}/garbage.adh", "k"],
        BAD,
        "BadInput",
        "bad magic",
    ),
    Case(
        "del/store-is-damaged",
        lambda d: ["del", "--store", f"{d}/damaged.adh", "k"],
        INVARIANT,
        "Invariant",
        "checksum mismatch",
    ),
    Case(
        "del/int-key-not-an-integer",
        lambda d: ["del", "--store", f"{d}/store.adh", "--int-key", "x"],
        BAD,
        "BadInput",
        "not an integer",
    ),
    Case(
        "del/missing-config",
        lambda d: ["del", "--store", f"{d}/store.adh", "--config", f"{d}/missing.toml", "k"],
        IO,
        "IO",
        "missing.toml",
    ),
    # -- items ---------------------------------------------------------------------------------
    Case(
        "items/missing-store",
        lambda d: ["items", "--store", f"{d}/missing.adh"],
        IO,
        "IO",
        "store not found",
    ),
    Case(
        "items/store-is-a-directory",
        lambda d: ["items", "--store", f"{d}/adir"],
        IO,
        "IO",
        "is a directory",
    ),
    Case(
        "items/store-is-garbage",
        lambda d: ["items", "--store", f"{d}/garbage.adh"],
        BAD,
        "BadInput",
        "bad magic",
    ),
    Case(
        "items/store-is-damaged",
        lambda d: ["items", "--store", f"{d}/damaged.adh"],
        INVARIANT,
        "Invariant",
        "checksum mismatch",
    ),
    Case(
        "items/negative-limit",
        lambda d: ["items", "--store", f"{d}/store.adh", "--limit", "-1"],
        BAD,
        "BadInput",
        "--limit",
    ),
    Case(
        "items/missing-config",
        lambda d: ["items", "--store", f"{d}/store.adh", "--config", f"{d}/missing.toml"],
        IO,
        "IO",
        "missing.toml",
    ),
    # -- serve ---------------------------------------------------------------------------------
    Case("serve/nothing-to-serve", lambda d: SERVE, BAD, "BadInput", "nothing to serve"),
    Case(
        "serve/source-missing",
        lambda d: [*SERVE, "--source", f"{d}/missing.ndjson"],
        IO,
        "IO",
        "missing.ndjson",
    ),
    Case(
        "serve/source-is-a-directory",
        lambda d: [*SERVE, "--source", f"{d}/adir"],
        IO,
        "IO",
        "is a directory",
    ),
    Case(
        "serve/source-not-metrics",
        lambda d: [*SERVE, "--source", f"{d}/w.csv"],
        BAD,
        "BadInput",
        "lines is an adhash metrics record",
    ),
    Case(
        "serve/source-empty",
        lambda d: [*SERVE, "--source", f"{d}/empty.ndjson"],
        BAD,
        "BadInput",
        "holds no metrics to serve: it is empty",
    ),
    Case(
        "serve/compare-missing",
        lambda d: [*SERVE, "--compare", f"{d}/missing.json"],
        IO,
        "IO",
        "missing.json",
    ),
    Case(
        "serve/compare-is-a-directory",
        lambda d: [*SERVE, "--compare", f"{d}/adir"],
        IO,
        "IO",
        "adir",
    ),
    Case(
        "serve/compare-not-json",
        lambda d: [*SERVE, "--compare", f"{d}/w.csv"],
        BAD,
        "BadInput",
        "is not JSON",
    ),
    Case(
        "serve/compare-not-an-object",
        lambda d: [*SERVE, "--compare", f"{d}/array.json"],
        BAD,
        "BadInput",
        "holds no JSON object",
    ),
    Case(
        "serve/follow-without-source",
        lambda d: [*SERVE, "--follow", "--compare", f"{d}/array.json"],
        BAD,
        "BadInput",
        "--follow needs --source",
    ),
    Case(
        "serve/port-out-of-range",
        lambda d: [*SERVE, "--source", f"{d}/missing.ndjson", "--port", "99999"],
        BAD,
        "BadInput",
        "--port",
    ),
    Case(
        "serve/port-not-a-number",
        lambda d: [*SERVE, "--source", f"{d}/missing.ndjson", "--port", "http"],
        BAD,
        "BadInput",
        "--port",
    ),
    Case(
        "serve/zero-history-limit",
        lambda d: [*SERVE, "--source", f"{d}/missing.ndjson", "--history-limit", "0"],
        BAD,
        "BadInput",
        "--history-limit",
    ),
    Case(
        "serve/zero-poll-interval",
        lambda d: [*SERVE, "--source", f"{d}/missing.ndjson", "--poll-interval", "0"],
        BAD,
        "BadInput",
        "--poll-interval",
    ),
    Case(
        "serve/negative-duration",
        lambda d: [*SERVE, "--source", f"{d}/missing.ndjson", "--duration", "-1"],
        BAD,
        "BadInput",
        "--duration",
    ),
    Case(
        "serve/empty-host",
        lambda d: [*SERVE, "--source", f"{d}/missing.ndjson", "--host", ""],
        BAD,
        "BadInput",
        "server.host",
    ),
    Case(
        "serve/set-out-of-range",
        lambda d: [*SERVE, "--source", f"{d}/missing.ndjson", "--set", "server.history_limit=0"],
        BAD,
        "BadInput",
        "server.history_limit",
    ),
    Case(
        "serve/missing-config",
        lambda d: [*SERVE, "--source", f"{d}/missing.ndjson", "--config", f"{d}/missing.toml"],
        IO,
        "IO",
        "missing.toml",
    ),
    Case(
        "serve/unknown-flag",
        lambda d: [*SERVE, "--source", f"{d}/missing.ndjson", "--bogus"],
        BAD,
        "BadInput",
        "--bogus",
    ),
    Case(
        "ab-compare/csv-missing",
        lambda d: [*_ab(d), "--csv", f"{d}/missing.csv"],
        IO,
        "IO",
        "missing.csv",
    ),
    Case(
        "ab-compare/csv-bad-row",
        lambda d: [*_ab(d), "--csv", f"{d}/bad-row.csv"],
        BAD,
        "BadInput",
        "line 3",
    ),
    Case(
        "ab-compare/unknown-mode",
        lambda d: [*_ab(d), "--csv", f"{d}/w.csv", "--baseline-mode", "btree"],
        BAD,
        "BadInput",
        "baseline: ",
    ),
    Case(
        "ab-compare/candidate-config-missing",
        lambda d: [*_ab(d), "--csv", f"{d}/w.csv", "--candidate-config", f"{d}/missing.toml"],
        IO,
        "IO",
        "missing.toml",
    ),
    Case(
        "ab-compare/candidate-config-bad-value",
        lambda d: [*_ab(d), "--csv", f"{d}/w.csv", "--candidate-config", f"{d}/bad-value.toml"],
        BAD,
        "BadInput",
        "adaptive.migration_batch",
    ),
    Case(
        "ab-compare/set-unknown-key",
        lambda d: [*_ab(d), "--csv", f"{d}/w.csv", "--baseline-set", "adaptive.nope=1"],
        BAD,
        "BadInput",
        "unknown key",
    ),
    Case(
        "ab-compare/same-sides",
        lambda d: ["ab-compare", "--out-dir", f"{d}/ab", "--csv", f"{d}/w.csv"],
        BAD,
        "BadInput",
        "the same",
    ),
    Case(
        "ab-compare/one-repeat",
        lambda d: [*_ab(d), "--csv", f"{d}/w.csv", "--repeats", "1"],
        BAD,
        "BadInput",
        "--repeats",
    ),
    Case(
        "ab-compare/alpha-out-of-range",
        lambda d: [*_ab(d), "--csv", f"{d}/w.csv", "--alpha", "0.9"],
        BAD,
        "BadInput",
        "--alpha",
    ),
    # -- probe-visualize -------------------------------------------------------------------------
    Case(
        "probe-visualize/put-without-value",
        lambda d: [*PROBE_PUT, "--export-json", f"{d}/trace.json"],
        BAD,
        "BadInput",
        "put needs --value",
    ),
    Case(
        "probe-visualize/get-with-value",
        lambda d: [*PROBE_GET, "--value", "v"],
        BAD,
        "BadInput",
        "--value applies to --operation put only",
    ),
    Case(
        "probe-visualize/unknown-operation",
        lambda d: ["probe-visualize", "--operation", "del", "--key", "k"],
        BAD,
        "BadInput",
        "--operation must be get or put",
    ),
    Case(
        "probe-visualize/missing-key-option",
        lambda d: ["probe-visualize", "--operation", "get"],
        BAD,
        "BadInput",
        "--key",
    ),
    Case(
        "probe-visualize/malformed-seed-entry",
        lambda d: [*PROBE_GET, "--seed-entry", "k=v", "--seed-entry", "j"],
        BAD,
        "BadInput",
        "--seed-entry 'j' must be KEY=VALUE",
    ),
    Case(
        "probe-visualize/int-key-not-an-integer",
        lambda d: [*PROBE_GET, "--int-key"],
        BAD,
        "BadInput",
        "not an integer",
    ),
    Case(
        "probe-visualize/unknown-mode",
        lambda d: [*PROBE_GET, "--mode", "btree"],
        BAD,
        "BadInput",
        "unknown mode 'btree'",
    ),
    Case(
        "probe-visualize/dict-mode",
        lambda d: [*PROBE_GET, "--mode", "dict"],
        BAD,
        "BadInput",
        "cannot be traced",
    ),
    Case(
        "probe-visualize/unknown-hashing",
        lambda d: [*PROBE_GET, "--hashing", "keyed", "--export-json", f"{d}/trace.json"],
        BAD,
        "BadInput",
        "--hashing must be plain or salted, got 'keyed'",
    ),
    Case(
        "probe-visualize/hashing-with-snapshot",
        lambda d: [*PROBE_GET, "--snapshot", f"{d}/store.adh", "--hashing", "salted"],
        BAD,
        "BadInput",
        "--hashing builds a new map",
    ),
    Case(
        "probe-visualize/mode-with-snapshot",
        lambda d: [*PROBE_GET, "--snapshot", f"{d}/store.adh", "--mode", "compact"],
        BAD,
        "BadInput",
        "--mode builds a new map",
    ),
    Case(
        "probe-visualize/missing-snapshot",
        lambda d: [*PROBE_GET, "--snapshot", f"{d}/missing.adh"],
        IO,
        "IO",
        "missing.adh",
    ),
    Case(
        "probe-visualize/snapshot-is-a-directory",
        lambda d: [*PROBE_GET, "--snapshot", f"{d}/adir"],
        IO,
        "IO",
        "is a directory",
    ),
    Case(
        "probe-visualize/snapshot-is-garbage",
        lambda d: [*PROBE_GET, "--snapshot", f"{d}/garbage.adh"],
        BAD,
        "BadInput",
        "bad magic",
    ),
    Case(
        "probe-visualize/snapshot-is-damaged",
        lambda d: [*PROBE_GET, "--snapshot", f"{d}/damaged.adh", "--export-json", f"{d}/t.json"],
        INVARIANT,
        "Invariant",
        "checksum mismatch",
    ),
    Case(
        "probe-visualize/export-json-is-a-directory",
        lambda d: [*PROBE_GET, "--export-json", f"{d}/adir"],
        IO,
        "IO",
        "adir",
    ),
    Case(
        "probe-visualize/set-out-of-range",
        lambda d: [*PROBE_GET, "--set", "maps.robinhood_capacity=3"],
        BAD,
        "BadInput",
        "maps.robinhood_capacity",
    ),
    Case(
        "probe-visualize/missing-config",
        lambda d: [*PROBE_GET, "--config", f"{d}/missing.toml"],
        IO,
        "IO",
        "missing.toml",
    ),
    Case(
        "batch/spec-missing",
        lambda d: ["batch", "--spec", f"{d}/missing.toml"],
        IO,
        "IO",
        "missing.toml",
    ),
    Case(
        "batch/spec-is-a-directory",
        lambda d: ["batch", "--spec", f"{d}/adir"],
        IO,
        "IO",
        "is a directory",
    ),
    Case(
        "batch/spec-bad-syntax",
        lambda d: ["batch", "--spec", f"{d}/syntax.toml"],
        BAD,
        "BadInput",
        "invalid TOML",
    ),
    Case(
        "batch/spec-without-jobs",
        lambda d: ["batch", "--spec", f"{d}/ok.toml"],
        BAD,
        "BadInput",
        "unknown key",
    ),
    Case("batch/no-spec", lambda d: ["batch"], BAD, "BadInput", "--spec"),
    Case(
        "batch/zero-jobs",
        lambda d: ["batch", "--spec", f"{d}/ok.toml", "--jobs", "0"],
        BAD,
        "BadInput",
        "--jobs",
    ),
]


def _root_command() -> Any:
    return typer.main.get_command(create_app())


def _command_names(command: Any, prefix: str = "") -> Iterator[str]:
    """The name of every command and command group under ``command``, e.g. ``config show``."""
    for name, sub in getattr(command, "commands", {}).items():
        full = f"{prefix} {name}".strip()
        yield full
        yield from _command_names(sub, full)


def _invoked(argv: list[str]) -> str:
    """The command (or group) that ``argv`` runs: its leading words that name commands."""
    command, words = _root_command(), []
    for word in argv:
        sub = getattr(command, "commands", {}).get(word)
        if sub is None:
            break
        command = sub
        words.append(word)
    return " ".join(words)


def _all_commands(command: Any, path: str = "adhash") -> Iterator[tuple[str, Any]]:
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _all_commands(sub, f"{path} {name}")


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_ends_in_one_error_envelope_and_its_exit_code(
    run_cli: RunCli, workdir: Path, case: Case
) -> None:
    outcome = run_cli("--json", *case.argv(workdir))
    assert "Traceback" not in outcome.stdout + outcome.stderr
    assert outcome.exit_code == case.exit_code, (outcome.stdout, outcome.stderr)
    assert outcome.stdout == ""
    assert outcome.stderr.count("\n") == 1, outcome.stderr
    envelope = orjson.loads(outcome.stderr)
    assert envelope["error"] == case.kind
    assert isinstance(envelope["detail"], str)
    assert envelope["detail"].strip()
    assert case.detail in envelope["detail"]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_creates_changes_or_deletes_nothing(
    run_cli: RunCli, workdir: Path, case: Case
) -> None:
    before = _tree(workdir)
    outcome = run_cli("--json", *case.argv(workdir))
    assert outcome.exit_code == case.exit_code, (outcome.stdout, outcome.stderr)
    assert _tree(workdir) == before


def test_case_ids_are_unique() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))


def test_every_command_has_a_bad_input_case(tmp_path: Path) -> None:
    covered = {_invoked(case.argv(tmp_path)) for case in CASES}
    assert covered == set(_command_names(_root_command()))


def _help_by_param(kind: str) -> dict[str, str]:
    """The help text of every parameter of ``kind`` (option or argument), by ``command --flag``;
    the automatic --help is left out."""
    return {
        f"{path} {param.opts[0]}": (getattr(param, "help", None) or "").strip()
        for path, command in _all_commands(_root_command())
        for param in command.params
        if param.param_type_name == kind and param.name != "help"
    }


def test_every_option_of_every_command_has_help_text() -> None:
    options = _help_by_param("option")
    assert {"adhash --json", "adhash run-csv --csv", "adhash config show --only-changed"} <= set(
        options
    )
    assert [name for name, text in options.items() if not text] == []


def test_every_argument_of_every_command_has_help_text() -> None:
    arguments = _help_by_param("argument")
    assert {"adhash put key", "adhash put value", "adhash get key"} <= set(arguments)
    assert [name for name, text in arguments.items() if not text] == []
