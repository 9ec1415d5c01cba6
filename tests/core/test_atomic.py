"""Atomic writes: a file appears whole or not at all, and a failure leaves the previous one."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from adhash.atomic import AtomicFile, atomic_write_bytes, atomic_write_text
from adhash.errors import IOFailureError


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _names(folder: Path) -> list[str]:
    return sorted(entry.name for entry in folder.iterdir())


def _write_then_fail(path: Path) -> None:
    with AtomicFile(path, "wb") as handle:
        handle.write(b"new" * 10_000)
        raise RuntimeError("stop")


def test_atomic_write_bytes_creates_the_file_and_its_folders(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "out.bin"
    atomic_write_bytes(path, b"\x00\xffdata")
    assert path.read_bytes() == b"\x00\xffdata"
    assert _names(path.parent) == ["out.bin"]


def test_atomic_write_text_is_utf8_and_keeps_line_ends_as_written(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    atomic_write_text(path, "é\nline\r\nend\r")
    assert path.read_bytes() == "é\nline\r\nend\r".encode()


def test_atomic_write_replaces_a_previous_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_text("old content that is longer than the new one")
    atomic_write_text(path, "new")
    assert path.read_text() == "new"
    assert _names(tmp_path) == ["out.txt"]


def test_target_is_untouched_until_the_block_ends(tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")
    with AtomicFile(path) as handle:
        handle.write(b"new")
        handle.flush()
        assert path.read_bytes() == b"old"
        assert len(_names(tmp_path)) == 2
    assert path.read_bytes() == b"new"
    assert _names(tmp_path) == ["out.bin"]


def test_new_file_does_not_appear_before_commit(tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    atomic = AtomicFile(path)
    atomic.file.write(b"data")
    assert not path.exists()
    atomic.commit()
    assert path.read_bytes() == b"data"


def test_exception_in_the_block_keeps_the_previous_file_and_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="stop"):
        _write_then_fail(path)
    assert path.read_bytes() == b"old"
    assert _names(tmp_path) == ["out.bin"]


def test_exception_without_a_previous_file_leaves_the_folder_empty(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="stop"):
        _write_then_fail(tmp_path / "out.bin")
    assert _names(tmp_path) == []


def test_abort_drops_the_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    atomic = AtomicFile(path)
    atomic.file.write(b"data")
    atomic.abort()
    atomic.abort()
    assert _names(tmp_path) == []


def test_text_mode_writes_utf8(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    with AtomicFile(path, "w") as handle:
        handle.write("漢字\n")
    assert path.read_bytes() == "漢字\n".encode()


def test_new_file_gets_the_mode_a_plain_open_would_give(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    atomic_write_text(path, "x")
    mode = stat.S_IMODE(path.stat().st_mode)
    assert mode != 0o600
    assert mode == 0o666 & ~_current_umask()


def test_replacing_a_file_keeps_its_permissions(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_text("old")
    path.chmod(0o640)
    atomic_write_text(path, "new")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_folder_that_cannot_be_created_is_an_io_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(IOFailureError) as caught:
        atomic_write_bytes(blocker / "out.bin", b"x")
    assert caught.value.exit_code == 5
    assert str(blocker / "out.bin") in str(caught.value)


def test_commit_over_a_directory_is_an_io_error_and_removes_the_temp(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.mkdir()
    with pytest.raises(IOFailureError, match="cannot write"):
        atomic_write_bytes(target, b"x")
    assert target.is_dir()
    assert _names(tmp_path) == ["taken"]


_CHILD = """
import sys, time
from adhash.atomic import AtomicFile

with AtomicFile(sys.argv[1], "wb") as handle:
    for chunk in range(2000):
        handle.write(bytes([65 + chunk % 26]) * 65536)
        handle.flush()
        if chunk == 8:
            print("writing", flush=True)
        time.sleep(0.005)
print("done", flush=True)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_process_killed_mid_write_leaves_the_previous_file_intact(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    previous = b"previous content\n" * 1000
    path.write_bytes(previous)
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "writing\n"
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()
    assert path.read_bytes() == previous
    leftovers = [entry for entry in tmp_path.iterdir() if entry != path]
    # The killed writer's partial temporary file is all that is left, and it is not the target.
    assert len(leftovers) == 1
    assert leftovers[0].name.startswith(".big.bin.")
    assert leftovers[0].name.endswith(".tmp")
    assert leftovers[0].stat().st_size >= 9 * 65536
