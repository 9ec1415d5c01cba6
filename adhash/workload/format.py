"""The workload CSV format: a streaming, validating reader and an atomic writer.

A workload is UTF-8 CSV with the header ``op,key,value`` (or ``op,key:int,value`` for integer
keys) and one operation per row: ``put,K1,v1``, ``get,K1,``, ``del,K1,``. The reader streams it
in batches of parallel lists (constant memory whatever the file size) and stops at the first bad
row with a :class:`~adhash.errors.BadInputError` naming the line and the problem. The format is
specified in ``docs/workload-format.md``.
"""

from __future__ import annotations

import csv
import os
import re
import sys
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal

from adhash.atomic import AtomicFile
from adhash.errors import BadInputError, IOFailureError

__all__ = [
    "KeyType",
    "Limits",
    "Op",
    "OpBatch",
    "WorkloadInfo",
    "WorkloadReader",
    "WorkloadWriter",
    "format_int_key",
    "validate_workload",
]

KeyType = Literal["text", "int"]
_HINT = "see docs/workload-format.md"
_KEY_COLUMNS: dict[str, KeyType] = {"key": "text", "key:text": "text", "key:int": "int"}


class Op(IntEnum):
    """A workload operation."""

    PUT = 0
    GET = 1
    DEL = 2

    @property
    def label(self) -> str:
        """The name used in the CSV file.

        >>> Op.DEL.label
        'del'
        """
        return _OP_LABELS[self]


_OP_LABELS = {Op.PUT: "put", Op.GET: "get", Op.DEL: "del"}
_OPS_BY_NAME = {"put": Op.PUT, "get": Op.GET, "del": Op.DEL}


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what a reader accepts; 0 disables a bound.

    ``max_bytes`` is checked against the file size before anything is read, ``max_rows`` while
    reading, ``max_field_bytes`` on every key and value.
    """

    max_rows: int = 5_000_000
    max_bytes: int = 500 * 2**20
    max_field_bytes: int = 65_536

    def __post_init__(self) -> None:
        for name in ("max_rows", "max_bytes", "max_field_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise BadInputError(f"{name} must be an int >= 0 (0 disables it), got {value!r}")


@dataclass(slots=True)
class OpBatch:
    """Consecutive rows as parallel lists; ``first_line`` is the file line of the first row.

    ``jumps`` lists ``(index, line)`` where a row does not sit on the line after the previous
    one (an earlier row spanned several lines); :meth:`line` accounts for them.
    """

    ops: list[int]
    keys: list[Any]
    values: list[str | None]
    first_line: int
    jumps: tuple[tuple[int, int], ...] = ()

    def __len__(self) -> int:
        return len(self.ops)

    def line(self, index: int) -> int:
        """The file line of row ``index`` of this batch (its last line, if it spans several).

        >>> OpBatch([1, 1, 1], ["a", "b", "c"], [None] * 3, 2, ((1, 5),)).line(2)
        6
        """
        position = bisect_right(self.jumps, (index, sys.maxsize))
        if position == 0:
            return self.first_line + index
        jump_index, jump_line = self.jumps[position - 1]
        return jump_line + index - jump_index


@dataclass(frozen=True, slots=True)
class WorkloadInfo:
    """What validating a workload found."""

    path: Path
    rows: int
    size_bytes: int
    key_type: KeyType
    op_counts: dict[str, int] = field(default_factory=dict)


class WorkloadReader:
    """Streams a workload file, validating every row.

    >>> import tempfile, os
    >>> from pathlib import Path
    >>> folder = tempfile.mkdtemp()
    >>> path = os.path.join(folder, "w.csv")
    >>> _ = Path(path).write_text("op,key:int,value\\nput,1,a\\nget,1,\\n")
    >>> with WorkloadReader(path) as reader:
    ...     [(line, op.label, key, value) for line, op, key, value in reader.rows()]
    [(2, 'put', 1, 'a'), (3, 'get', 1, None)]
    """

    def __init__(self, path: str | os.PathLike[str], *, limits: Limits | None = None) -> None:
        self.path = Path(path)
        self.limits = limits if limits is not None else Limits()
        try:
            self.size_bytes = self.path.stat().st_size
            if self.path.is_dir():
                raise IOFailureError(f"workload {self.path} is a directory, not a file")
            # surrogateescape: an invalid byte becomes a lone surrogate in the text, found (and
            # reported at its line, in order) by the row checks instead of by the decoder,
            # which decodes whole blocks ahead of the row being read.
            self._file: IO[str] = open(  # noqa: SIM115 - closed by close() / the context manager
                self.path, encoding="utf-8", errors="surrogateescape", newline=""
            )
        except FileNotFoundError:
            raise IOFailureError(
                f"workload file not found: {self.path}", hint="check the path"
            ) from None
        except IOFailureError:
            raise
        except OSError as exc:
            raise IOFailureError(f"cannot read workload {self.path}: {exc.strerror}") from None
        try:
            if self.limits.max_bytes and self.size_bytes > self.limits.max_bytes:
                raise BadInputError(
                    f"workload {self.path} is {self.size_bytes} bytes, over the limit of "
                    f"{self.limits.max_bytes}",
                    hint="raise the limit (--csv-max-bytes, 0 disables it)",
                )
            self.rows_read = 0
            _raise_csv_field_limit(self.limits.max_field_bytes)
            self._reader = csv.reader(self._file, strict=True)
            self.key_type: KeyType = self._read_header()
        except BaseException:
            self._file.close()
            raise

    def __enter__(self) -> WorkloadReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the file."""
        self._file.close()

    def _next_row(self) -> list[str] | None:
        try:
            return next(self._reader)
        except StopIteration:
            return None
        except csv.Error as exc:
            problem = _csv_problem(exc, self.limits.max_field_bytes)
            raise BadInputError(f"line {self._reader.line_num}: {problem}", hint=_HINT) from None
        except OSError as exc:
            raise IOFailureError(f"cannot read workload {self.path}: {exc}") from None

    def _read_header(self) -> KeyType:
        header = self._next_row()
        if header is None:
            raise BadInputError(f"workload {self.path} is empty: no header line", hint=_HINT)
        if header and header[0].startswith("\ufeff"):
            header[0] = header[0][1:]
        for name in header:
            if not name.isascii() and _invalid_text(name):
                raise BadInputError("line 1: invalid UTF-8 in the header", hint=_HINT)
        names = [name.strip().lower() for name in header]
        missing = [
            column
            for column, present in (
                ("op", "op" in names),
                ("key", any(name in _KEY_COLUMNS for name in names)),
                ("value", "value" in names),
            )
            if not present
        ]
        if missing:
            raise BadInputError(
                f"line 1: header misses column(s) {', '.join(missing)}; expected op,key,value "
                "(or op,key:int,value)",
                hint=_HINT,
            )
        if len(names) != 3 or names[0] != "op" or names[2] != "value":
            extra = [name for name in names if name not in ("op", "value", *_KEY_COLUMNS)]
            problem = f"unknown column(s) {', '.join(extra)}" if extra else "columns out of order"
            raise BadInputError(
                f"line 1: {problem}; the header must be op,key,value (or op,key:int,value)",
                hint=_HINT,
            )
        return _KEY_COLUMNS[names[1]]

    def rows(self) -> Iterator[tuple[int, Op, Any, str | None]]:
        """Yield ``(line, op, key, value)`` for every row; ``line`` is the row's last line.

        Complexity: O(1) memory; O(row) time per row.
        """
        for batch in self.batches(4096):
            rows = zip(batch.ops, batch.keys, batch.values, strict=True)
            for index, (op, key, value) in enumerate(rows):
                yield batch.line(index), Op(op), key, value

    def batches(self, size: int = 65_536) -> Iterator[OpBatch]:
        """Yield the rows as :class:`OpBatch` es of at most ``size`` rows.

        Lines are physical lines; a row split over several lines by a quoted line break is
        reported at its last line. Complexity: O(size) memory.
        """
        if size < 1:
            raise BadInputError(f"batch size must be >= 1, got {size}")
        ops_by_name = _OPS_BY_NAME
        max_rows = self.limits.max_rows
        max_field = self.limits.max_field_bytes
        int_keys = self.key_type == "int"
        reader = self._reader
        while True:
            ops: list[int] = []
            keys: list[Any] = []
            values: list[str | None] = []
            first_line = reader.line_num + 1
            jumps: list[tuple[int, int]] = []
            expected = first_line
            for index in range(size):
                row = self._next_row()
                if row is None:
                    break
                line = reader.line_num
                if line != expected:
                    jumps.append((index, line))
                expected = line + 1
                if len(row) != 3:
                    _check_text(row, line)
                    if not row or row == [""]:
                        raise BadInputError(f"line {line}: empty line", hint=_HINT)
                    raise BadInputError(
                        f"line {line}: expected 3 columns (op,key,value), found {len(row)}",
                        hint=_HINT,
                    )
                name, key, value = row
                if not (key.isascii() and value.isascii()):
                    _check_text(row, line)
                if "\x00" in key or "\x00" in value:
                    raise BadInputError(f"line {line}: NUL byte in a field", hint=_HINT)
                op = ops_by_name.get(name)
                if op is None:
                    op = ops_by_name.get(name.strip().lower())
                    if op is None:
                        _check_text(row, line)
                        if "\x00" in name:
                            raise BadInputError(f"line {line}: NUL byte in a field", hint=_HINT)
                        if not name.strip():
                            raise BadInputError(f"line {line}: missing op", hint=_HINT)
                        raise BadInputError(
                            f"line {line}: unknown op {_shorten(name)} (expected put, get or del)",
                            hint=_HINT,
                        )
                if not key:
                    raise BadInputError(f"line {line}: missing key", hint=_HINT)
                if max_field and (len(key) > max_field or len(value) > max_field):
                    raise BadInputError(f"line {line}: {_field_too_long(max_field)}", hint=_HINT)
                if int_keys:
                    keys.append(_parse_int_key(key, line))
                else:
                    keys.append(key)
                if op == 0:
                    if not value:
                        raise BadInputError(f"line {line}: put without a value", hint=_HINT)
                    values.append(value)
                else:
                    values.append(None)
                ops.append(op)
            if not ops:
                return
            self.rows_read += len(ops)
            if max_rows and self.rows_read > max_rows:
                raise BadInputError(
                    f"workload {self.path} has more than {max_rows} rows",
                    hint="raise the limit (--csv-max-rows, 0 disables it)",
                )
            yield OpBatch(ops, keys, values, first_line, tuple(jumps))
            if len(ops) < size:
                return


_INT_KEY = re.compile(r"-?[0-9]+")
_INT_DIGITS_AT_ONCE = 4000


def _parse_int_key(text: str, line: int) -> int:
    """A base-10 integer of any size (no spaces, underscores or plus signs)."""
    if not _INT_KEY.fullmatch(text):
        raise BadInputError(f"line {line}: bad integer key {_shorten(text)}", hint=_HINT)
    if len(text) <= _INT_DIGITS_AT_ONCE:
        return int(text)
    # Past CPython's int/str conversion limit: convert in pieces of 4,000 digits.
    negative = text.startswith("-")
    digits = text[1:] if negative else text
    value = 0
    for start in range(0, len(digits), _INT_DIGITS_AT_ONCE):
        piece = digits[start : start + _INT_DIGITS_AT_ONCE]
        value = value * 10 ** len(piece) + int(piece)
    return -value if negative else value


def format_int_key(value: int) -> str:
    """The decimal text of an integer key of any size (the inverse of the reader's parsing).

    >>> format_int_key(-(10**5000)) == "-1" + "0" * 5000
    True
    """
    block = 10**_INT_DIGITS_AT_ONCE
    if -block < value < block:
        return str(value)
    sign = "-" if value < 0 else ""
    value = abs(value)
    pieces: list[str] = []
    while value >= block:
        value, piece = divmod(value, block)
        pieces.append(str(piece).zfill(_INT_DIGITS_AT_ONCE))
    pieces.append(str(value))
    return sign + "".join(reversed(pieces))


def _shorten(text: str, limit: int = 40) -> str:
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"... ({len(text)} chars)"


def _invalid_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _check_text(row: list[str], line: int) -> None:
    """Raise for a field holding bytes that were not valid UTF-8 (decoded as surrogates)."""
    for position, text in enumerate(row):
        if not text.isascii() and _invalid_text(text):
            raise BadInputError(f"line {line}: invalid UTF-8 in column {position + 1}", hint=_HINT)


def _field_too_long(limit: int) -> str:
    return f"field too long (over {limit} characters)"


_CSV_FIELD_CEILING = 1 << 30


def _raise_csv_field_limit(limit: int) -> None:
    """Let the csv module accept fields up to ``limit``; never lower the process setting.

    ``csv.field_size_limit`` is one setting for the whole process, so each reader enforces its
    own limit itself and only ever raises this one (0, "no limit", raises it to 1 GiB).
    """
    wanted = _CSV_FIELD_CEILING if limit == 0 else limit + 16
    if csv.field_size_limit() < wanted:
        csv.field_size_limit(wanted)


def _csv_problem(exc: csv.Error, limit: int) -> str:
    message = str(exc)
    if "NUL" in message:
        return "NUL byte in a field"
    if "field larger than field limit" in message:
        return _field_too_long(limit)
    return message


def validate_workload(
    path: str | os.PathLike[str], *, limits: Limits | None = None
) -> WorkloadInfo:
    """Read a whole workload without executing it; the rows, size, key type and op counts.

    Complexity: O(rows) time, O(1) memory.

    >>> import tempfile, os
    >>> from pathlib import Path
    >>> path = os.path.join(tempfile.mkdtemp(), "w.csv")
    >>> _ = Path(path).write_text("op,key,value\\nput,a,1\\nget,a,\\nfoo,a,\\n")
    >>> validate_workload(path)
    Traceback (most recent call last):
    ...
    adhash.errors.BadInputError: line 4: unknown op 'foo' (expected put, get or del)
    """
    counts = [0, 0, 0]
    with WorkloadReader(path, limits=limits) as reader:
        for batch in reader.batches():
            ops = batch.ops
            counts[0] += ops.count(0)
            counts[1] += ops.count(1)
            counts[2] += ops.count(2)
        return WorkloadInfo(
            path=reader.path,
            rows=reader.rows_read,
            size_bytes=reader.size_bytes,
            key_type=reader.key_type,
            op_counts={"put": counts[0], "get": counts[1], "del": counts[2]},
        )


class WorkloadWriter:
    """Writes a workload atomically: a temporary file in the same folder, fsync, rename.

    Nothing appears at ``path`` until the ``with`` block ends without an exception; on an
    exception the temporary file is removed and any previous file at ``path`` is left intact.

    >>> import tempfile, os
    >>> from pathlib import Path
    >>> path = os.path.join(tempfile.mkdtemp(), "w.csv")
    >>> with WorkloadWriter(path, key_type="int") as writer:
    ...     writer.write(Op.PUT, 7, "seven")
    ...     writer.write(Op.GET, 7)
    >>> Path(path).read_text()
    'op,key:int,value\\nput,7,seven\\nget,7,\\n'
    """

    def __init__(self, path: str | os.PathLike[str], *, key_type: KeyType = "text") -> None:
        if key_type not in ("text", "int"):
            raise BadInputError(f"key_type must be 'text' or 'int', got {key_type!r}")
        self.path = Path(path)
        self.key_type = key_type
        self.rows_written = 0
        self._atomic = AtomicFile(self.path, "w")
        self._writer = csv.writer(self._atomic.file, lineterminator="\n")
        # csv quotes a field holding "\n" but not a bare "\r", which a reader takes as a line
        # end: rows with one go through a writer that quotes every field.
        self._quoting_writer = csv.writer(
            self._atomic.file, lineterminator="\n", quoting=csv.QUOTE_ALL
        )
        self._writer.writerow(["op", "key:int" if key_type == "int" else "key", "value"])

    def write(self, op: Op, key: Any, value: str | None = None) -> None:
        """Append one row."""
        self.write_many([(op, key, value)])

    def write_many(self, rows: Iterable[tuple[Op, Any, str | None]]) -> None:
        """Append many rows (faster than repeated :meth:`write`)."""
        labels = _OP_LABELS
        plain: list[tuple[str, Any, str]] = []
        int_keys = self.key_type == "int"
        for op, key, value in rows:
            text_key = format_int_key(key) if int_keys and type(key) is int else key
            text_value = "" if value is None else value
            if "\r" in text_value or (type(text_key) is str and "\r" in text_key):
                self._writer.writerows(plain)
                plain.clear()
                self._quoting_writer.writerow((labels[op], text_key, text_value))
            else:
                plain.append((labels[op], text_key, text_value))
            self.rows_written += 1
        self._writer.writerows(plain)

    def __enter__(self) -> WorkloadWriter:
        return self

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
        """Flush, fsync, and move the file into place."""
        self._atomic.commit()

    def abort(self) -> None:
        """Drop the temporary file; the target path is untouched."""
        self._atomic.abort()
