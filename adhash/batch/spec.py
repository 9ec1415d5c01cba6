"""The batch suite spec (TOML, schema ``adhash.batch_spec.v1``): workloads, configs, jobs, matrix.

```toml
[suite]
name = "baseline"
repeats = 3

[workloads.uniform]
generate = { ops = 100000, key_space = 10000, seed = 1 }

[workloads.recorded]
csv = "data/w.csv"                 # relative to the spec file

[configs.small-batches]
sets = ["adaptive.migration_batch=16"]

[[jobs]]
name = "adaptive-uniform"
workload = "uniform"
mode = "adaptive"
config = "small-batches"

[matrix]                            # every mode × workload × config, named w-m-c
modes = ["chaining", "robinhood"]
workloads = ["uniform"]
configs = ["default", "small-batches"]
```

Unknown keys, missing references and bad values are :class:`~adhash.errors.BadInputError` naming
the spec file and the key, with the nearest valid key when there is one.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from adhash.errors import BadInputError, IOFailureError
from adhash.replay import resolve_mode
from adhash.workload.generate import GeneratorSpec

__all__ = ["SPEC_SCHEMA", "BatchSpec", "Job", "load_spec"]

SPEC_SCHEMA = "adhash.batch_spec.v1"
_NAME = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SuiteSpec(_Model):
    """The suite as a whole."""

    name: _NAME = "suite"
    description: str = ""
    out_dir: str = Field(default="batch-results", min_length=1)
    repeats: int = Field(default=1, ge=1, le=1000)
    timeout: float | None = Field(default=None, gt=0)


class WorkloadSpec(_Model):
    """A workload: a CSV file, or generator parameters (see docs/generator.md)."""

    csv: str | None = None
    generate: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> WorkloadSpec:
        if (self.csv is None) == (self.generate is None):
            raise ValueError("give exactly one of csv or generate")
        if self.generate is not None:
            GeneratorSpec.from_params(**self.generate)
        return self


class ConfigSpec(_Model):
    """A named configuration: a TOML file (relative to the spec) and/or settings."""

    file: str | None = None
    sets: list[str] = Field(default_factory=list)


class JobSpec(_Model):
    """One job: a workload (by name), a mode, a configuration (by name), repeats."""

    name: _NAME
    workload: _NAME
    mode: str | None = None
    config: _NAME = "default"
    sets: list[str] = Field(default_factory=list)
    repeats: int | None = Field(default=None, ge=1, le=1000)


class MatrixSpec(_Model):
    """Every mode × workload × config as a job named ``<workload>-<mode>-<config>``."""

    modes: list[str] = Field(min_length=1)
    workloads: list[_NAME] = Field(min_length=1)
    configs: list[_NAME] = Field(default_factory=lambda: ["default"])
    repeats: int | None = Field(default=None, ge=1, le=1000)


class BatchSpec(_Model):
    """A whole spec file."""

    schema_: str = Field(default=SPEC_SCHEMA, alias="schema")
    suite: SuiteSpec = SuiteSpec()
    workloads: dict[_NAME, WorkloadSpec] = Field(default_factory=dict)
    configs: dict[_NAME, ConfigSpec] = Field(default_factory=dict)
    jobs: list[JobSpec] = Field(default_factory=list)
    matrix: MatrixSpec | None = None


@dataclass(frozen=True, slots=True)
class Job:
    """One expanded job: everything a run needs, paths resolved."""

    name: str
    workload: str
    mode: str | None
    config_name: str
    config_file: Path | None
    sets: tuple[str, ...]
    repeats: int


def load_spec(path: str | Path) -> tuple[BatchSpec, list[Job]]:
    """Read, validate and expand a spec file; BadInput (or IO) errors naming the file and key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise IOFailureError(f"batch spec not found: {path}") from None
    except IsADirectoryError:
        raise IOFailureError(f"batch spec {path} is a directory, not a file") from None
    except UnicodeDecodeError:
        raise BadInputError(f"batch spec {path} is not UTF-8 text") from None
    except OSError as error:
        raise IOFailureError(f"cannot read batch spec {path}: {error.strerror}") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise BadInputError(f"batch spec {path}: invalid TOML: {error}") from None
    try:
        spec = BatchSpec.model_validate(document)
    except ValidationError as error:
        raise _describe(path, error) from None
    except BadInputError as error:
        raise BadInputError(f"batch spec {path}: {error.detail}") from None
    if spec.schema_ != SPEC_SCHEMA:
        raise BadInputError(f"batch spec {path}: schema {spec.schema_!r} is not {SPEC_SCHEMA!r}")
    return spec, _expand(path, spec)


def _expand(path: Path, spec: BatchSpec) -> list[Job]:
    configs = {"default": ConfigSpec(), **spec.configs}
    base = path.parent
    jobs: list[Job] = []

    def add(
        name: str,
        workload: str,
        mode: str | None,
        config: str,
        sets: list[str],
        repeats: int | None,
        where: str,
    ) -> None:
        if workload not in spec.workloads:
            raise _missing(path, where, "workload", workload, spec.workloads)
        if config not in configs:
            raise _missing(path, where, "config", config, configs)
        if mode is not None:
            try:
                resolve_mode(mode)
            except BadInputError as error:
                raise BadInputError(f"batch spec {path}: {where}: {error.detail}") from None
        chosen = configs[config]
        jobs.append(
            Job(
                name=name,
                workload=workload,
                mode=mode,
                config_name=config,
                config_file=(base / chosen.file) if chosen.file else None,
                sets=(*chosen.sets, *sets),
                repeats=repeats or spec.suite.repeats,
            )
        )

    for index, job in enumerate(spec.jobs):
        add(job.name, job.workload, job.mode, job.config, job.sets, job.repeats, f"jobs[{index}]")
    if spec.matrix is not None:
        matrix = spec.matrix
        for workload in matrix.workloads:
            for mode in matrix.modes:
                for config in matrix.configs:
                    add(
                        f"{workload}-{mode}-{config}",
                        workload,
                        mode,
                        config,
                        [],
                        matrix.repeats,
                        "matrix",
                    )
    if not jobs:
        raise BadInputError(
            f"batch spec {path}: no jobs", hint="add [[jobs]] entries or a [matrix]"
        )
    names = [job.name for job in jobs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise BadInputError(f"batch spec {path}: job names repeat: {', '.join(duplicates)}")
    return jobs


def _missing(path: Path, where: str, kind: str, name: str, known: dict[str, Any]) -> BadInputError:
    near = difflib.get_close_matches(name, list(known), n=1)
    suggestion = f"; did you mean {near[0]!r}?" if near else ""
    available = ", ".join(sorted(known)) or "none"
    return BadInputError(
        f"batch spec {path}: {where}: no {kind} named {name!r}{suggestion}",
        hint=f"{kind}s defined: {available}",
    )


_FIELDS: dict[str, list[str]] = {
    "": ["schema", "suite", "workloads", "configs", "jobs", "matrix"],
    "suite": list(SuiteSpec.model_fields),
    "workloads": list(WorkloadSpec.model_fields),
    "configs": list(ConfigSpec.model_fields),
    "jobs": list(JobSpec.model_fields),
    "matrix": list(MatrixSpec.model_fields),
}


def _describe(path: Path, error: ValidationError) -> BadInputError:
    problems = []
    for item in error.errors(include_url=False):
        loc = [str(part) for part in item["loc"]]
        where = ".".join(loc) or "(top)"
        if item["type"] == "extra_forbidden":
            section = loc[0] if len(loc) > 1 else ""
            near = difflib.get_close_matches(loc[-1], _FIELDS.get(section, _FIELDS[""]), n=1)
            suggestion = f"; did you mean {near[0]}?" if near else ""
            problems.append(f"{where}: unknown key{suggestion}")
            continue
        message = item["msg"].removeprefix("Value error, ")
        problems.append(f"{where}: {message[0].lower()}{message[1:]} (got {item.get('input')!r})")
    return BadInputError(
        f"batch spec {path}: " + "; ".join(problems), hint="see docs/batch.md for every key"
    )
