"""Atomic file writes: every file adhash writes appears whole or not at all.

A write goes to a temporary file in the target's folder, is flushed and fsynced, then renamed
over the target, and the folder is fsynced. A crash or an error mid-write leaves any previous
file at the target intact and no partial file behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal

from adhash.errors import IOFailureError

__all__ = ["AtomicFile", "atomic_write_bytes", "atomic_write_text"]


class AtomicFile:
    """A context manager for a file that replaces ``path`` only when the block succeeds.

    >>> import tempfile, os
    >>> from pathlib import Path
    >>> path = os.path.join(tempfile.mkdtemp(), "out.txt")
    >>> with AtomicFile(path, "w") as handle:
    ...     _ = handle.write("hello")
    >>> Path(path).read_text()
    'hello'
    """

    def __init__(self, path: str | os.PathLike[str], mode: Literal["w", "wb"] = "wb") -> None:
        self.path = Path(path)
        self._mode = mode
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            handle, temp_name = tempfile.mkstemp(
                prefix=f".{self.path.name}.", suffix=".tmp", dir=folder
            )
        except OSError as exc:
            raise IOFailureError(f"cannot write {self.path}: {exc.strerror}") from None
        self._temp = Path(temp_name)
        # mkstemp creates the file 0600; give it the mode a plain open() would have.
        with contextlib.suppress(OSError):
            os.chmod(self._temp, _permissions_for(self.path))
        if mode == "w":
            self.file: IO[Any] = os.fdopen(handle, "w", encoding="utf-8", newline="")
        else:
            self.file = os.fdopen(handle, "wb")

    def __enter__(self) -> IO[Any]:
        return self.file

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()

    def commit(self) -> None:
        """Flush, fsync, rename over the target, fsync the folder."""
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            os.replace(self._temp, self.path)
        except OSError as exc:
            self.abort()
            raise IOFailureError(f"cannot write {self.path}: {exc.strerror}") from None
        _fsync_folder(self.path.parent)

    def abort(self) -> None:
        """Drop the temporary file; the target is untouched."""
        self.file.close()
        self._temp.unlink(missing_ok=True)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically.

    >>> import tempfile, os
    >>> from pathlib import Path
    >>> path = os.path.join(tempfile.mkdtemp(), "b.bin")
    >>> atomic_write_bytes(path, b"xy"); Path(path).read_bytes()
    b'xy'
    """
    with AtomicFile(path, "wb") as handle:
        handle.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8) atomically."""
    with AtomicFile(path, "w") as handle:
        handle.write(text)


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def _permissions_for(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        return 0o666 & ~_UMASK


def _fsync_folder(folder: Path) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
