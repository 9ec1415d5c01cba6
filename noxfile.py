"""Developer and CI sessions for adhash; CI (``.ci/run``) runs ``nox -s lint type tests``.

``nox -s tests`` is the whole test suite, the command the README gives.
"""

from __future__ import annotations

import os
import shutil

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = False
nox.options.sessions = ["lint", "type", "tests"]

PACKAGES = ("adhash", "adhash_cli", "adhash_gui", "adhash_tui")


@nox.session
def tests(session: nox.Session) -> None:
    """Run the whole test suite (arguments go to pytest)."""
    _ensure_chromium(session)
    session.install("-e", ".[dev]")
    session.run("pytest", *session.posargs)


def _ensure_chromium(session: nox.Session) -> None:
    """The browser tests drive Debian's Chromium; install it when missing and allowed to."""
    browser = os.environ.get("ADHASH_CHROMIUM", "/usr/bin/chromium")
    if os.access(browser, os.X_OK):
        return
    if shutil.which("apt-get") is None:
        session.error(f"the browser tests need Chromium at {browser} (set ADHASH_CHROMIUM)")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    session.run(*sudo, "apt-get", "update", "-qq", external=True)
    session.run(
        *sudo,
        "apt-get",
        "install",
        "-y",
        "-qq",
        "--no-install-recommends",
        "chromium",
        external=True,
        env={"DEBIAN_FRONTEND": "noninteractive"},
    )


@nox.session
def lint(session: nox.Session) -> None:
    """Check lint rules and formatting with ruff."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(name="type")
def type_check(session: nox.Session) -> None:
    """Type-check the packages with mypy --strict."""
    session.install("-e", ".[dev]")
    session.run("mypy", "--strict", *PACKAGES)


@nox.session
def docs(session: nox.Session) -> None:
    """Regenerate the command and settings references and the config schema in docs/."""
    session.install("-e", ".[cli]")
    session.run("python", "-m", "adhash_cli.reference", "--write")


@nox.session
def demo(session: nox.Session) -> None:
    """The main job: generate a workload, replay it on every backend, report (args go to it)."""
    session.install("-e", ".[cli]")
    session.run("adhash", "demo", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Run the benchmarks (arguments go to ``python -m benchmarks``)."""
    session.install("-e", ".[dev]")
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session(name="bench-replay")
def bench_replay(session: nox.Session) -> None:
    """Run the whole-process replay benchmark (args go to ``python -m benchmarks.replay``)."""
    session.install("-e", ".[dev]")
    session.run("python", "-m", "benchmarks.replay", *session.posargs)


@nox.session(name="bench-snapshot")
def bench_snapshot(session: nox.Session) -> None:
    """Run the snapshot save/load benchmark against pickle (args go to ``benchmarks.snapshot``)."""
    session.install("-e", ".[dev]")
    session.run("python", "-m", "benchmarks.snapshot", *session.posargs)


@nox.session(name="bench-server")
def bench_server(session: nox.Session) -> None:
    """What ten polling dashboards cost a live run (args go to ``python -m benchmarks.server``)."""
    session.install("-e", ".[dev]")
    session.run("python", "-m", "benchmarks.server", *session.posargs)


@nox.session(name="bench-flood")
def bench_flood(session: nox.Session) -> None:
    """Hash flooding: dict, backends, AdaptiveMap (args go to ``python -m benchmarks.flooding``)."""
    session.install("-e", ".[dev]")
    session.run("python", "-m", "benchmarks.flooding", *session.posargs)


@nox.session
def stress(session: nox.Session) -> None:
    """Run the core's tests under the ``stress`` Hypothesis profile (arguments go to pytest)."""
    session.install("-e", ".[dev]")
    session.run(
        "pytest",
        "tests/core",
        "-m",
        "not slow",
        *session.posargs,
        env={"HYPOTHESIS_PROFILE": "stress"},
    )
