"""The workload CSV format of docs/workload-format.md: the reader, the writer and the limits."""

from __future__ import annotations

import contextlib
import gc
import os
import stat
import tracemalloc
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from adhash.errors import BadInputError, IOFailureError
from adhash.workload.format import (
    Limits,
    Op,
    WorkloadReader,
    WorkloadWriter,
    validate_workload,
)


def _workload(tmp_path: Path, content: str | bytes, name: str = "w.csv") -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_bytes(content.encode())
    else:
        path.write_bytes(content)
    return path


@contextlib.contextmanager
def _quiet_leaked_readers() -> Iterator[None]:
    """Finalise, quietly, the readers a refused header left open inside the block.

    ``WorkloadReader`` does not close its file when it refuses the header (pinned by
    ``test_reader_closes_its_file_when_it_refuses_the_header``); left to the garbage collector,
    the ResourceWarning would fail whichever later test happens to be running.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        yield
        gc.collect()


def _open(path: Path, limits: Limits | None = None) -> WorkloadReader:
    with _quiet_leaked_readers():
        try:
            return WorkloadReader(path, limits=limits)
        except BadInputError as error:
            message = str(error)
    pytest.fail(f"the reader refused {path.name}: {message}")


def _rows(path: Path, limits: Limits | None = None) -> list[tuple[int, Op, object, str | None]]:
    with _open(path, limits) as reader:
        return list(reader.rows())


def _error(path: Path, limits: Limits | None = None) -> str:
    with _quiet_leaked_readers():
        try:
            validate_workload(path, limits=limits)
        except BadInputError as error:
            return str(error)
    pytest.fail(f"{path.name} was accepted")


def _descriptors_open_on(path: Path) -> list[str]:
    descriptors = []
    for descriptor in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(descriptor)
        except OSError:
            continue
        if target == str(path):
            descriptors.append(descriptor.name)
    return descriptors


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# -- header ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "key_type"),
    [
        (b"op,key,value", "text"),
        (b"op,key:text,value", "text"),
        (b"op,key:int,value", "int"),
        (b"OP,KEY:INT,Value", "int"),
        (b" op , key:int , value ", "int"),
        (b"Op,Key,VALUE", "text"),
        (b"\xef\xbb\xbfop,key,value", "text"),
        (b"\xef\xbb\xbfop,key:int,value", "int"),
        (b"\xef\xbb\xbf op , key , value ", "text"),
    ],
)
def test_header_variants_name_the_key_type(tmp_path: Path, header: bytes, key_type: str) -> None:
    path = _workload(tmp_path, header + b"\nput,7,seven\n")
    with _open(path) as reader:
        assert reader.key_type == key_type
        expected_key: object = 7 if key_type == "int" else "7"
        assert list(reader.rows()) == [(2, Op.PUT, expected_key, "seven")]


def test_crlf_line_ends_are_accepted(tmp_path: Path) -> None:
    path = _workload(tmp_path, "op,key,value\r\nput,a,1\r\nget,a,\r\ndel,a,\r\n")
    assert _rows(path) == [(2, Op.PUT, "a", "1"), (3, Op.GET, "a", None), (4, Op.DEL, "a", None)]


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc/self/fd")
@pytest.mark.parametrize(
    "content", [b"", b"op,key\n", b"op,key,value,extra\n", b"\xffop,key,value\n"]
)
def test_reader_closes_its_file_when_it_refuses_the_header(tmp_path: Path, content: bytes) -> None:
    path = _workload(tmp_path, content)
    left_open = None
    with _quiet_leaked_readers():
        try:
            WorkloadReader(path)
        except BadInputError:
            left_open = _descriptors_open_on(path)
    assert left_open == []


def test_header_with_columns_out_of_order_is_refused(tmp_path: Path) -> None:
    path = _workload(tmp_path, "key,op,value\nput,a,1\n")
    assert _error(path).startswith("line 1: columns out of order; the header must be op,key,value")


# -- every error of the documentation's table, at its line ------------------------------------


def test_empty_file_is_refused(tmp_path: Path) -> None:
    path = _workload(tmp_path, b"")
    assert _error(path) == f"workload {path} is empty: no header line"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "op,key\nput,a\n",
            "line 1: header misses column(s) value; expected op,key,value (or op,key:int,value)",
        ),
        (
            "op,value\nput,1\n",
            "line 1: header misses column(s) key; expected op,key,value (or op,key:int,value)",
        ),
        (
            "op,key,value,extra\nput,a,1,x\n",
            "line 1: unknown column(s) extra; the header must be op,key,value "
            "(or op,key:int,value)",
        ),
        (
            "op,key:float,value\nput,a,1\n",
            "line 1: header misses column(s) key; expected op,key,value (or op,key:int,value)",
        ),
        ("op,key,value\nput,a,1\nget,a,,\n", "line 3: expected 3 columns (op,key,value), found 4"),
        ("op,key,value\nput,a,1\nget,a\n", "line 3: expected 3 columns (op,key,value), found 2"),
        ("op,key,value\nput,a,1\n\nget,a,\n", "line 3: empty line"),
        ("op,key,value\nput,a,1\nput,b,2\n,a,\n", "line 4: missing op"),
        ("op,key,value\nput,a,1\npur,a,1\n", "line 3: unknown op 'pur' (expected put, get or del)"),
        ("op,key,value\nput,a,1\nget,,\n", "line 3: missing key"),
        ("op,key,value\nput,a,1\nput,b,\n", "line 3: put without a value"),
        ("op,key:int,value\nput,1,a\nput,K1,a\n", "line 3: bad integer key 'K1'"),
        ("op,key:int,value\nput,1.5,a\n", "line 2: bad integer key '1.5'"),
        ("op,key,value\nput,a,1\nput,b\x00,1\n", "line 3: NUL byte in a field"),
        ("op,key,value\nput,a,1\nput,b,1\x00\n", "line 3: NUL byte in a field"),
        ("op,key,value\nput,a,1\np\x00ut,b,1\n", "line 3: NUL byte in a field"),
    ],
    ids=[
        "missing-value-column",
        "missing-key-column",
        "extra-column",
        "unknown-key-column",
        "four-fields",
        "two-fields",
        "blank-line",
        "missing-op",
        "unknown-op",
        "missing-key",
        "put-without-value",
        "bad-int-key",
        "float-int-key",
        "nul-in-key",
        "nul-in-value",
        "nul-in-op",
    ],
)
def test_bad_row_names_its_line_and_problem(tmp_path: Path, content: str, message: str) -> None:
    assert _error(_workload(tmp_path, content)) == message


def test_error_has_the_format_docs_as_hint(tmp_path: Path) -> None:
    path = _workload(tmp_path, "op,key,value\npur,a,1\n")
    with pytest.raises(BadInputError) as caught:
        validate_workload(path)
    assert caught.value.exit_code == 2
    assert caught.value.hint == "see docs/workload-format.md"


def test_op_names_tolerate_case_and_spaces(tmp_path: Path) -> None:
    path = _workload(tmp_path, "op,key,value\n PUT ,a,1\nGet,a,\n dEl,a,\n")
    assert [op for _, op, _, _ in _rows(path)] == [Op.PUT, Op.GET, Op.DEL]


def test_text_keys_are_taken_exactly_with_spaces(tmp_path: Path) -> None:
    path = _workload(tmp_path, "op,key,value\nput, a ,  v \nget, a ,ignored\n")
    assert _rows(path) == [(2, Op.PUT, " a ", "  v "), (3, Op.GET, " a ", None)]


def test_invalid_utf8_deep_in_a_file_is_reported_at_its_line(tmp_path: Path) -> None:
    good = b"".join(b"put,K%d,v%d\n" % (i, i) for i in range(5000))  # lines 2..5001
    path = _workload(tmp_path, b"op,key,value\n" + good + b"put,K\xffX,v\nget,K1,\n")
    message = _error(path)
    assert message == "line 5002: invalid UTF-8 in column 2"


def test_truncated_utf8_at_the_end_of_the_file_is_reported(tmp_path: Path) -> None:
    path = _workload(tmp_path, b"op,key,value\nput,a,1\nput,b,1\xe2\x82")
    assert _error(path) == "line 3: invalid UTF-8 in column 3"


def test_first_problem_is_reported_even_before_invalid_utf8(tmp_path: Path) -> None:
    # The docs promise the reader stops at the *first* problem: an unknown op on line 3 comes
    # before the invalid byte on line 4.
    path = _workload(tmp_path, b"op,key,value\nput,a,1\npur,b,1\nput,c,\xff\n")
    assert _error(path) == "line 3: unknown op 'pur' (expected put, get or del)"


def test_quoted_field_spanning_lines_is_reported_at_its_last_line(tmp_path: Path) -> None:
    path = _workload(tmp_path, 'op,key,value\nput,a,1\nput,"multi\nline\nkey",\n')
    assert _error(path) == "line 5: put without a value"


def test_error_after_a_multi_line_row_counts_physical_lines(tmp_path: Path) -> None:
    path = _workload(tmp_path, 'op,key,value\nput,"a\nb",x\nget,c,\npur,d,\n')
    assert _error(path) == "line 5: unknown op 'pur' (expected put, get or del)"


def test_unterminated_quote_is_refused(tmp_path: Path) -> None:
    path = _workload(tmp_path, 'op,key,value\nput,a,1\nput,"abc,1\n')
    assert _error(path).startswith("line 3: ")


def test_field_at_the_limit_is_accepted(tmp_path: Path) -> None:
    path = _workload(tmp_path, "op,key,value\nput,a," + "x" * 65_536 + "\n")
    assert validate_workload(path).rows == 1


@pytest.mark.parametrize("length", [65_537, 70_000, 1_000_000])
def test_over_long_field_gets_the_documented_message(tmp_path: Path, length: int) -> None:
    path = _workload(tmp_path, "op,key,value\nput,a,1\nput,b," + "x" * length + "\n")
    assert _error(path) == "line 3: field too long (over 65536 characters)"


def test_max_field_bytes_is_configurable(tmp_path: Path) -> None:
    path = _workload(tmp_path, "op,key,value\nput,abcde,1\nput,abcdefghijk,1\n")
    message = _error(path, Limits(max_field_bytes=10))
    assert message.startswith("line 3: field")


def test_field_limit_of_one_reader_does_not_leak_into_another(tmp_path: Path) -> None:
    # csv.field_size_limit is process-wide: opening a reader with a small limit must not make
    # a reader opened earlier with a larger limit refuse fields it accepts.
    wide = _workload(tmp_path, "op,key,value\nput,a," + "x" * 5000 + "\n", "wide.csv")
    narrow = _workload(tmp_path, "op,key,value\nput,a,1\n", "narrow.csv")
    with WorkloadReader(wide, limits=Limits(max_field_bytes=100_000)) as wide_reader:
        with WorkloadReader(narrow, limits=Limits(max_field_bytes=10)) as narrow_reader:
            assert len(list(narrow_reader.rows())) == 1
        assert [len(value or "") for _, _, _, value in wide_reader.rows()] == [5000]


# -- limits -----------------------------------------------------------------------------------


def test_row_limit_allows_exactly_max_rows(tmp_path: Path) -> None:
    path = _workload(tmp_path, "op,key,value\nput,a,1\nget,a,\ndel,a,\n")
    assert validate_workload(path, limits=Limits(max_rows=3)).rows == 3


@pytest.mark.parametrize("batch_size", [1, 2, 65_536])
def test_row_limit_refuses_one_more_row(tmp_path: Path, batch_size: int) -> None:
    path = _workload(tmp_path, "op,key,value\nput,a,1\nget,a,\ndel,a,\nget,a,\n")
    with (
        WorkloadReader(path, limits=Limits(max_rows=3)) as reader,
        pytest.raises(BadInputError) as caught,
    ):
        for _ in reader.batches(batch_size):
            pass
    assert str(caught.value) == f"workload {path} has more than 3 rows"
    assert "--csv-max-rows" in (caught.value.hint or "")


def test_row_limit_zero_disables_it(tmp_path: Path) -> None:
    rows = "".join(f"put,k{i},v\n" for i in range(50))
    path = _workload(tmp_path, "op,key,value\n" + rows)
    assert validate_workload(path, limits=Limits(max_rows=0)).rows == 50


def test_byte_limit_is_checked_before_reading(tmp_path: Path) -> None:
    # The file's content is not even a workload: only the size check can be reporting.
    path = _workload(tmp_path, b"\xff\x00not a workload at all\n" * 10)
    size = path.stat().st_size
    with pytest.raises(BadInputError) as caught:
        WorkloadReader(path, limits=Limits(max_bytes=size - 1))
    assert str(caught.value) == f"workload {path} is {size} bytes, over the limit of {size - 1}"
    assert "--csv-max-bytes" in (caught.value.hint or "")


def test_byte_limit_allows_a_file_of_exactly_max_bytes(tmp_path: Path) -> None:
    path = _workload(tmp_path, "op,key,value\nput,a,1\n")
    size = path.stat().st_size
    assert validate_workload(path, limits=Limits(max_bytes=size)).size_bytes == size
    assert validate_workload(path, limits=Limits(max_bytes=0)).rows == 1


@pytest.mark.parametrize("field", ["max_rows", "max_bytes", "max_field_bytes"])
@pytest.mark.parametrize("value", [-1, True, 1.5])
def test_limits_refuse_bad_bounds(field: str, value: object) -> None:
    with pytest.raises(BadInputError, match=field):
        Limits(**{field: value})  # type: ignore[arg-type]


# -- keys -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [0, -12, 2_305_843_009_213_693_952, 2**61 - 1 + 5, -(2**200), 10**100],
)
def test_int_keys_of_any_size_round_trip(tmp_path: Path, key: int) -> None:
    path = tmp_path / "w.csv"
    with WorkloadWriter(path, key_type="int") as writer:
        writer.write(Op.PUT, key, "v")
    assert _rows(path) == [(2, Op.PUT, key, "v")]


def test_int_key_longer_than_python_int_digit_limit_is_read(tmp_path: Path) -> None:
    # "a base-10 integer of any size": CPython's int() refuses more than 4,300 digits by default.
    digits = "9" * 5000
    path = _workload(tmp_path, f"op,key:int,value\nput,{digits},v\n")
    [(_, _, key, _)] = _rows(path)
    assert key == 10**5000 - 1


def test_int_keys_colliding_under_hash_stay_distinct(tmp_path: Path) -> None:
    modulus = 2**61 - 1
    keys = [5, 5 + modulus, 5 + 2 * modulus]
    assert len({hash(key) for key in keys}) == 1
    path = tmp_path / "w.csv"
    with WorkloadWriter(path, key_type="int") as writer:
        writer.write_many((Op.PUT, key, str(key)) for key in keys)
    assert [key for _, _, key, _ in _rows(path)] == keys


@pytest.mark.parametrize(
    "text",
    [
        "a,b",
        'say "hi"',
        '"',
        ",",
        "line\nbreak",
        "crlf\r\nbreak",
        "bare\rreturn",
        "ends with return\r",
        " padded ",
        "é ü 漢字 🙂",
        "\ufeffbom-like",
        "'single'",
        "tab\there",
    ],
)
def test_text_keys_and_values_round_trip_through_the_writer(tmp_path: Path, text: str) -> None:
    path = tmp_path / "w.csv"
    with WorkloadWriter(path) as writer:
        writer.write(Op.PUT, text, text)
        writer.write(Op.GET, text)
        writer.write(Op.DEL, "after", None)
    assert _rows(path)[0][1:] == (Op.PUT, text, text)
    assert [(op, key, value) for _, op, key, value in _rows(path)][1:] == [
        (Op.GET, text, None),
        (Op.DEL, "after", None),
    ]


def test_writer_write_many_counts_rows_and_matches_write(tmp_path: Path) -> None:
    rows = [(Op.PUT, f"k{i}", f"v{i}") for i in range(10)] + [(Op.GET, "k1", None)]
    one_by_one = tmp_path / "one.csv"
    with WorkloadWriter(one_by_one) as writer:
        for op, key, value in rows:
            writer.write(op, key, value)
    assert writer.rows_written == 11
    many = tmp_path / "many.csv"
    with WorkloadWriter(many) as writer:
        writer.write_many(iter(rows))
        writer.write_many([])
    assert writer.rows_written == 11
    assert many.read_bytes() == one_by_one.read_bytes()
    assert many.read_bytes().startswith(b"op,key,value\nput,k0,v0\n")


def test_writer_refuses_an_unknown_key_type(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="key_type"):
        WorkloadWriter(tmp_path / "w.csv", key_type="float")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


# -- batches and rows -------------------------------------------------------------------------


def _fifteen_rows(tmp_path: Path) -> Path:
    return _workload(tmp_path, "op,key:int,value\n" + "".join(f"put,{i},v\n" for i in range(15)))


@pytest.mark.parametrize(
    ("size", "lengths", "first_lines"),
    [
        (1, [1] * 15, list(range(2, 17))),
        (7, [7, 7, 1], [2, 9, 16]),
        (5, [5, 5, 5], [2, 7, 12]),
        (15, [15], [2]),
        (16, [15], [2]),
    ],
    ids=["size-1", "size-7", "exact-multiple", "exact-size", "larger"],
)
def test_batches_split_rows_at_size_boundaries(
    tmp_path: Path, size: int, lengths: list[int], first_lines: list[int]
) -> None:
    with WorkloadReader(_fifteen_rows(tmp_path)) as reader:
        batches = list(reader.batches(size))
        assert reader.rows_read == 15
    assert [len(batch) for batch in batches] == lengths
    assert [batch.first_line for batch in batches] == first_lines
    assert [key for batch in batches for key in batch.keys] == list(range(15))
    assert all(len(b.ops) == len(b.keys) == len(b.values) for b in batches)


def test_batches_of_a_header_only_file_yield_nothing(tmp_path: Path) -> None:
    with WorkloadReader(_workload(tmp_path, "op,key,value\n")) as reader:
        assert list(reader.batches(10)) == []


def test_batches_refuse_a_size_below_one(tmp_path: Path) -> None:
    with (
        WorkloadReader(_fifteen_rows(tmp_path)) as reader,
        pytest.raises(BadInputError, match="batch size"),
    ):
        next(reader.batches(0))


def test_batches_carry_ops_keys_and_values_as_parallel_lists(tmp_path: Path) -> None:
    path = _workload(tmp_path, "op,key,value\nput,a,1\nget,a,x\ndel,b,\n")
    with WorkloadReader(path) as reader:
        [batch] = list(reader.batches())
    assert (batch.ops, batch.keys, batch.values) == (
        [Op.PUT, Op.GET, Op.DEL],
        ["a", "a", "b"],
        ["1", None, None],
    )


def test_rows_yield_the_line_of_every_row(tmp_path: Path) -> None:
    rows = _rows(_fifteen_rows(tmp_path))
    assert [line for line, _, _, _ in rows] == list(range(2, 17))
    assert rows[3] == (5, Op.PUT, 3, "v")


def test_rows_after_a_multi_line_row_report_physical_lines(tmp_path: Path) -> None:
    # Errors count physical lines (a quoted field spanning lines ends on its last line); rows()
    # must agree with them, or a row's reported line is not where it is in the file.
    path = _workload(tmp_path, 'op,key,value\nput,"a\nb",x\nget,c,\nget,d,\n')
    assert [line for line, _, _, _ in _rows(path)] == [3, 4, 5]


def test_reading_a_large_file_in_batches_uses_constant_memory(tmp_path: Path) -> None:
    path = tmp_path / "large.csv"
    with WorkloadWriter(path) as writer:
        writer.write_many((Op.PUT, f"key-{i:07d}", f"value-{i:07d}") for i in range(200_000))
    assert path.stat().st_size > 5_000_000
    tracemalloc.start()
    try:
        rows = 0
        with WorkloadReader(path) as reader:
            for batch in reader.batches(1000):
                rows += len(batch)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert rows == 200_000
    assert peak < 3 * 2**20


# -- validate_workload ------------------------------------------------------------------------


def test_validate_workload_counts_rows_ops_and_size(tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    with WorkloadWriter(path, key_type="int") as writer:
        writer.write_many((Op.PUT, i, "v") for i in range(7))
        writer.write_many((Op.GET, i, None) for i in range(5))
        writer.write_many((Op.DEL, i, None) for i in range(3))
    info = validate_workload(path)
    assert info.path == path
    assert info.rows == 15
    assert info.size_bytes == path.stat().st_size
    assert info.key_type == "int"
    assert info.op_counts == {"put": 7, "get": 5, "del": 3}


def test_validate_workload_of_a_header_only_file_counts_zero(tmp_path: Path) -> None:
    info = validate_workload(_workload(tmp_path, "op,key,value\n"))
    assert (info.rows, info.key_type, info.op_counts) == (0, "text", {"put": 0, "get": 0, "del": 0})


def test_missing_file_is_an_io_error(tmp_path: Path) -> None:
    with pytest.raises(IOFailureError) as caught:
        validate_workload(tmp_path / "absent.csv")
    assert caught.value.exit_code == 5
    assert "not found" in str(caught.value)


def test_directory_is_an_io_error(tmp_path: Path) -> None:
    with pytest.raises(IOFailureError, match="directory"):
        WorkloadReader(tmp_path)


# -- the writer is atomic ---------------------------------------------------------------------


def _write_then_fail(path: Path, rows: int) -> None:
    with WorkloadWriter(path) as writer:
        writer.write_many((Op.PUT, f"new{i}", "v") for i in range(rows))
        raise RuntimeError("stop")


def test_writer_exception_keeps_previous_file_and_leaves_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    path.write_text("op,key,value\nput,old,1\n")
    with pytest.raises(RuntimeError, match="stop"):
        _write_then_fail(path, 1000)
    assert path.read_text() == "op,key,value\nput,old,1\n"
    assert [entry.name for entry in tmp_path.iterdir()] == ["w.csv"]


def test_writer_exception_without_previous_file_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="stop"):
        _write_then_fail(tmp_path / "w.csv", 1)
    assert list(tmp_path.iterdir()) == []


def test_writer_file_has_the_mode_open_would_give(tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    with WorkloadWriter(path) as writer:
        writer.write(Op.PUT, "a", "1")
    mode = stat.S_IMODE(path.stat().st_mode)
    assert mode != 0o600
    assert mode == 0o666 & ~_current_umask()


def test_writer_replaces_a_previous_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    path.write_text("op,key,value\n" + "put,old,1\n" * 100)
    with WorkloadWriter(path) as writer:
        writer.write(Op.GET, "new")
    assert path.read_text() == "op,key,value\nget,new,\n"
    assert [entry.name for entry in tmp_path.iterdir()] == ["w.csv"]
