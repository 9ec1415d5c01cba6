"""Adversarial key sets and the generator's adversarial kinds: each set really collides.

Text keys are checked where they are meant to collide: in a fresh interpreter started with the
targeted ``PYTHONHASHSEED``, never in the test process (whose str hash seed is its own).
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adhash import ChainingMap, SaltedMap
from adhash.errors import BadInputError, IOFailureError
from adhash.workload.adversarial import (
    HASH_SEED_PROBE,
    ConstantHashKey,
    HashSeedProbe,
    colliding_int_at,
    colliding_ints,
    colliding_text,
    constant_hash_keys,
    current_hash_seed_matches,
    find_colliding_text,
    lowbit_ints,
    seed_warning,
    text_hash_check,
)
from adhash.workload.format import WorkloadReader
from adhash.workload.generate import GeneratorSpec, Manifest, generate, generate_rows


def hashes_under_seed(seed: int, texts: list[str]) -> list[int]:
    """``hash()`` of each text in a fresh interpreter run with ``PYTHONHASHSEED=seed``."""
    completed = subprocess.run(
        [sys.executable, "-c", "import sys; print(*map(hash, sys.argv[1:]))", *texts],
        env={**os.environ, "PYTHONHASHSEED": str(seed)},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return [int(word) for word in completed.stdout.split()]


def _text_spec(**params: Any) -> GeneratorSpec:
    base: dict[str, Any] = {
        "ops": 2000,
        "adversarial_ratio": 0.5,
        "adversarial_kind": "text",
        "adversarial_hash_seed": 1234,
        "adversarial_bits": 6,
        "adversarial_keys": 40,
    }
    return GeneratorSpec.from_params(**{**base, **params})


def _keys(path: Path) -> list[Any]:
    with WorkloadReader(path, limits=None) as reader:
        return [key for _, _, key, _ in reader.rows()]


# -- integers sharing one full hash -------------------------------------------------------


@given(
    n=st.integers(1, 300),
    data=st.data(),
    start=st.integers(0, 5),
)
def test_colliding_ints_are_distinct_and_fall_into_exactly_the_classes(
    n: int, data: st.DataObject, start: int
) -> None:
    classes = data.draw(st.integers(1, n))
    keys = colliding_ints(n, classes=classes, start=start)
    assert len(set(keys)) == n
    assert {hash(key) for key in keys} == set(range(classes))


def test_colliding_ints_classes_are_as_even_as_n_allows() -> None:
    keys = colliding_ints(10, classes=3)
    sizes = sorted(sum(hash(key) == c for key in keys) for c in range(3))
    assert sizes == [3, 3, 4]


def test_colliding_ints_is_the_generator_s_colliding_set() -> None:
    spec = GeneratorSpec.from_params(
        ops=3000, key_type="int", adversarial_ratio=1.0, adversarial_keys=60, adversarial_classes=4
    )
    drawn = {key for _, key, _ in generate_rows(spec)}
    assert drawn <= set(colliding_ints(60, classes=4))
    assert all(
        colliding_int_at(classes=4)(index) == key
        for index, key in enumerate(colliding_ints(8, classes=4))
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"n": -1}, "n=-1 is out of range"),
        ({"n": 3, "classes": 0}, "classes=0 is out of range"),
        ({"n": 3, "classes": 4}, "every class needs at least one key"),
        ({"n": 3, "start": -1}, "start=-1 is out of range"),
        ({"n": True}, "n must be an integer, got bool"),
    ],
)
def test_colliding_ints_refuses_bad_arguments(params: dict[str, Any], message: str) -> None:
    n = params.pop("n")
    with pytest.raises(BadInputError, match=message):
        colliding_ints(n, **params)


def test_colliding_ints_pile_into_one_chain_whatever_the_salt() -> None:
    for seed in (1, 2):
        chaining: ChainingMap[int, None] = ChainingMap(hash_seed=seed)
        for key in colliding_ints(300):
            chaining[key] = None
        assert chaining.stats().chain_length_max == 300


# -- integers sharing only low bits -------------------------------------------------------


@given(n=st.integers(1, 300), bits=st.integers(1, 40), data=st.data())
def test_lowbit_ints_share_low_bits_and_differ_above(
    n: int, bits: int, data: st.DataObject
) -> None:
    classes = data.draw(st.integers(1, min(n, 1 << bits)))
    keys = lowbit_ints(n, bits=bits, classes=classes)
    mask = (1 << bits) - 1
    assert len(set(keys)) == n
    assert {hash(key) & mask for key in keys} == set(range(classes))
    assert len({hash(key) for key in keys}) == n


def test_lowbit_ints_fill_one_slot_of_an_unmixed_table_but_spread_in_adhash() -> None:
    keys = lowbit_ints(1024, bits=12)
    assert {hash(key) & 4095 for key in keys} == {0}
    chaining: ChainingMap[int, None] = ChainingMap(hash_seed=1)
    for key in keys:
        chaining[key] = None
    longest = chaining.stats().chain_length_max
    assert longest is not None
    assert longest <= 16


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"bits": 0}, "bits=0 is out of range"),
        ({"bits": 61}, "bits=61 is out of range"),
        ({"bits": 2, "classes": 5}, r"classes \(5\) exceeds 2\*\*bits \(4\)"),
        ({"bits": 60}, "pass 2\\*\\*61 - 1"),
    ],
)
def test_lowbit_ints_refuses_bad_arguments(params: dict[str, Any], message: str) -> None:
    with pytest.raises(BadInputError, match=message):
        lowbit_ints(8, **params)


# -- text keys under one PYTHONHASHSEED ---------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1234, 2**32 - 1])
def test_colliding_text_collides_in_the_low_bits_under_its_seed(seed: int) -> None:
    keys = colliding_text(30, hash_seed=seed, bits=8)
    assert len(set(keys)) == 30
    assert keys[0] == "F0"
    hashes = hashes_under_seed(seed, keys)
    assert len({value & 0xFF for value in hashes}) == 1
    assert len(set(hashes)) == 30


def test_colliding_text_is_deterministic_and_in_candidate_order() -> None:
    first = colliding_text(12, hash_seed=77, bits=6, prefix="Q_")
    assert first == colliding_text(12, hash_seed=77, bits=6, prefix="Q_")
    assert all(key.startswith("Q_") for key in first)
    assert [int(key.removeprefix("Q_")) for key in first] == sorted(
        int(key.removeprefix("Q_")) for key in first
    )


def test_colliding_text_keys_do_not_collide_under_another_seed() -> None:
    keys = colliding_text(30, hash_seed=5, bits=8)
    assert len({value & 0xFF for value in hashes_under_seed(6, keys)}) > 1


def test_find_colliding_text_records_the_probe_of_its_seed() -> None:
    found = find_colliding_text(4, hash_seed=99, bits=4)
    (probe_hash,) = hashes_under_seed(99, [HASH_SEED_PROBE])
    assert found.probe == HashSeedProbe(seed=99, probe=HASH_SEED_PROBE, hash=probe_hash)
    assert found.keys() == [found.key(index) for index in range(len(found))]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"hash_seed": -1}, r"hash_seed=-1 is out of range: allowed \[0, 4294967295\]"),
        ({"hash_seed": 2**32}, "hash_seed=4294967296 is out of range"),
        ({"hash_seed": 1, "bits": 0}, r"bits=0 is out of range: allowed \[1, 24\]"),
        ({"hash_seed": 1, "bits": 25}, "bits=25 is out of range"),
        ({"hash_seed": 1, "bits": 24}, r"means trying about 8 \* 2\*\*24 .* above the limit"),
        ({"hash_seed": 1, "prefix": "a\nb"}, "must be printable text"),
        ({"hash_seed": 1, "timeout": 0}, "timeout=0 must be a positive number"),
        ({"hash_seed": "1"}, "hash_seed must be an integer, got str"),
    ],
)
def test_colliding_text_refuses_bad_arguments(params: dict[str, Any], message: str) -> None:
    with pytest.raises(BadInputError, match=message) as caught:
        colliding_text(8, **params)
    assert "Traceback" not in str(caught.value)


def test_a_search_that_cannot_start_is_an_io_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    with pytest.raises(IOFailureError, match="could not start /nonexistent/python"):
        colliding_text(2, hash_seed=1, bits=2)


def test_a_search_that_fails_is_an_io_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", "/bin/false")
    with pytest.raises(IOFailureError, match=r"failed \(exit code 1\)"):
        colliding_text(2, hash_seed=1, bits=2)


def test_a_search_out_of_time_is_bad_input_with_a_hint() -> None:
    with pytest.raises(BadInputError, match="did not finish within") as caught:
        colliding_text(1000, hash_seed=1, bits=16, timeout=0.01)
    assert caught.value.hint is not None
    assert "fewer keys" in caught.value.hint


def test_text_hash_check_is_the_probe_hash_under_that_seed() -> None:
    assert [text_hash_check(3), text_hash_check(4)] == [
        *hashes_under_seed(3, [HASH_SEED_PROBE]),
        *hashes_under_seed(4, [HASH_SEED_PROBE]),
    ]


def test_current_hash_seed_matches_tells_the_seed_of_this_process() -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from adhash.workload.adversarial import current_hash_seed_matches;"
            "print(current_hash_seed_matches(int(sys.argv[1])))",
            str(text_hash_check(321)),
        ],
        env={**os.environ, "PYTHONHASHSEED": "321"},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert completed.stdout.strip() == "True"
    assert current_hash_seed_matches(hash(HASH_SEED_PROBE))
    assert not current_hash_seed_matches(hash(HASH_SEED_PROBE) + 1)


def test_a_probe_from_another_seed_warns_with_the_seed_to_rerun_with(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)
    elsewhere = HashSeedProbe(seed=1234, probe=HASH_SEED_PROBE, hash=hash(HASH_SEED_PROBE) + 1)
    assert elsewhere.warning() == (
        "this workload's text keys collide under PYTHONHASHSEED=1234, but this process hashes "
        "str with another seed: they will not collide here (rerun with PYTHONHASHSEED=1234)"
    )


def test_a_probe_mismatch_under_the_right_seed_blames_the_python_build(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYTHONHASHSEED", "1234")
    elsewhere = HashSeedProbe(seed=1234, probe=HASH_SEED_PROBE, hash=hash(HASH_SEED_PROBE) + 1)
    warning = elsewhere.warning()
    assert warning is not None
    assert "this Python hashes str differently" in warning
    assert "regenerate the workload" in warning


def test_seed_warning_is_none_without_a_probe_or_when_the_probe_matches(tmp_path: Path) -> None:
    manifest = generate(GeneratorSpec(ops=10), tmp_path / "w.csv")
    here = HashSeedProbe(seed=1, probe=HASH_SEED_PROBE, hash=hash(HASH_SEED_PROBE))
    assert seed_warning(None) is None
    assert seed_warning(manifest) is None
    assert seed_warning(manifest.model_copy(update={"hash_seed_probe": here})) is None
    other = here.model_copy(update={"hash": here.hash + 1})
    assert seed_warning(manifest.model_copy(update={"hash_seed_probe": other})) is not None


# -- objects with a constant hash ---------------------------------------------------------


def test_constant_hash_keys_all_hash_alike_but_compare_unequal() -> None:
    keys = constant_hash_keys(50, hash_value=9)
    assert {hash(key) for key in keys} == {9}
    assert len(set(keys)) == 50
    assert all(a != b for a, b in itertools.pairwise(keys))


def test_constant_hash_key_equality_needs_type_value_and_hash_value() -> None:
    class Other(ConstantHashKey[int]):
        __slots__ = ()

    assert ConstantHashKey(1) == ConstantHashKey(1)
    assert ConstantHashKey(1) != ConstantHashKey(1, hash_value=2)
    assert ConstantHashKey(1) != Other(1)
    assert ConstantHashKey(1) != 1
    assert repr(ConstantHashKey("a", 3)) == "ConstantHashKey(value='a', hash_value=3)"


def test_constant_hash_key_is_frozen_and_slotted() -> None:
    key = ConstantHashKey(1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        key.value = 2  # type: ignore[misc]
    assert not hasattr(key, "__dict__")


def test_constant_hash_keys_form_one_chain_whatever_the_salt_yet_every_lookup_is_right() -> None:
    keys = constant_hash_keys(200)
    chaining: ChainingMap[ConstantHashKey[int], int] = ChainingMap(hash_seed=3)
    for key in keys:
        chaining[key] = key.value
    assert chaining.stats().chain_length_max == 200
    assert all(chaining[ConstantHashKey(i)] == i for i in range(200))


def test_salting_separates_colliding_ints_but_not_constant_hash_keys() -> None:
    salted_ints: SaltedMap[int, None] = SaltedMap(seed=1)
    salted_objects: SaltedMap[ConstantHashKey[int], None] = SaltedMap(seed=1)
    for key in colliding_ints(200):
        salted_ints[key] = None
    for constant in constant_hash_keys(200):
        salted_objects[constant] = None
    longest = salted_ints.stats().chain_length_max
    assert longest is not None
    assert longest < 20
    assert salted_objects.stats().chain_length_max == 200


# -- the generator's adversarial kinds ----------------------------------------------------


def test_old_specs_write_the_same_bytes_as_before_the_adversarial_kinds(tmp_path: Path) -> None:
    # Computed with the generator before adversarial_kind existed (GENERATOR_VERSION 1).
    expected = {
        "full": "ca03daf67dc884033621ba574a23a0588f95128045e029b73ce42b179e30dbeb",
        "plain": "acc0661c09bafa037c306c3273b7740d3cf8107490c4087b7127729e5fce0b86",
    }
    params: dict[str, dict[str, Any]] = {
        "full": {
            "ops": 4000,
            "key_space": 500,
            "key_type": "int",
            "adversarial_ratio": 0.4,
            "adversarial_classes": 3,
            "adversarial_keys": 50,
            "rmw_ratio": 0.2,
            "seed": 5,
        },
        "plain": {"ops": 4000, "preset": "ycsb-a", "key_space": 300, "seed": 9},
    }
    for name, spec_params in params.items():
        manifest = generate(GeneratorSpec.from_params(**spec_params), tmp_path / f"{name}.csv")
        assert manifest.sha256 == expected[name], name
        assert manifest.hash_seed_probe is None


def test_low_bits_kind_keys_share_exactly_the_classes_low_bits() -> None:
    spec = GeneratorSpec.from_params(
        ops=4000,
        key_type="int",
        adversarial_ratio=1.0,
        adversarial_kind="low-bits",
        adversarial_bits=10,
        adversarial_classes=3,
        adversarial_keys=90,
    )
    keys = {key for _, key, _ in generate_rows(spec)}
    assert keys <= set(lowbit_ints(90, bits=10, classes=3))
    assert {hash(key) & 1023 for key in keys} == {0, 1, 2}
    assert len({hash(key) for key in keys}) == len(keys) > 60


def test_text_kind_writes_colliding_keys_and_records_the_seed(tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    manifest = generate(_text_spec(), path)
    adversarial = sorted({key for key in _keys(path) if key.startswith("K_")})
    assert len(adversarial) > 20
    assert set(adversarial) <= set(colliding_text(40, hash_seed=1234, bits=6, prefix="K_"))
    assert len({value & 63 for value in hashes_under_seed(1234, adversarial)}) == 1
    (probe_hash,) = hashes_under_seed(1234, [HASH_SEED_PROBE])
    assert manifest.hash_seed_probe == HashSeedProbe(
        seed=1234, probe=HASH_SEED_PROBE, hash=probe_hash
    )
    stored = orjson.loads(Manifest.path_for(path).read_bytes())
    assert stored["hash_seed_probe"] == {"seed": 1234, "probe": HASH_SEED_PROBE, "hash": probe_hash}
    assert Manifest.read_for(path) == manifest


def test_text_kind_is_deterministic(tmp_path: Path) -> None:
    first = generate(_text_spec(), tmp_path / "a.csv")
    second = generate(_text_spec(), tmp_path / "b.csv")
    assert first.sha256 == second.sha256
    assert hashlib.sha256((tmp_path / "a.csv").read_bytes()).hexdigest() == first.sha256


def test_text_kind_keys_are_never_ordinary_keys() -> None:
    rows = list(generate_rows(_text_spec(key_prefix="F", miss_ratio=0.3)))
    ordinary = {key for _, key, _ in rows if isinstance(key, str) and not key.startswith("F_")}
    assert all(key[1:].lstrip("-").isdigit() for key in ordinary)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"adversarial_ratio": 0.1},
            "adversarial_ratio > 0 needs key_type 'int': CPython randomises str hashes",
        ),
        (
            {"adversarial_ratio": 0.1, "adversarial_kind": "low-bits"},
            "adversarial_kind 'low-bits' needs key_type 'int'",
        ),
        ({"adversarial_kind": "text"}, "adversarial_kind 'text' needs adversarial_hash_seed"),
        ({"adversarial_hash_seed": 5}, "adversarial_hash_seed applies to adversarial_kind 'text'"),
        (
            {
                "adversarial_kind": "text",
                "adversarial_hash_seed": 5,
                "adversarial_ratio": 0.1,
                "key_type": "int",
            },
            "adversarial_kind 'text' needs key_type 'text'",
        ),
        (
            {"adversarial_kind": "text", "adversarial_hash_seed": 5, "adversarial_classes": 2},
            "adversarial_classes must be 1, not 2",
        ),
        (
            {"adversarial_kind": "text", "adversarial_hash_seed": 5, "adversarial_bits": 25},
            "allows adversarial_bits up to 24, not 25",
        ),
        (
            {
                "adversarial_kind": "text",
                "adversarial_hash_seed": 5,
                "adversarial_bits": 20,
                "adversarial_keys": 100,
            },
            "above the limit of 67108864",
        ),
        (
            {"adversarial_kind": "low-bits", "adversarial_bits": 2, "adversarial_classes": 5},
            r"adversarial_classes \(5\) exceeds the 4 residues of adversarial_bits=2",
        ),
        ({"adversarial_kind": "lowbits"}, "allowed one of full-hash, low-bits, text"),
        (
            {"adversarial_bits": 33},
            r"adversarial_bits=33 is out of range: allowed an integer in \[1, 32\]",
        ),
        (
            {"adversarial_kind": "text", "adversarial_hash_seed": 2**32},
            r"adversarial_hash_seed=4294967296 is out of range: allowed an integer in "
            r"\[0, 4294967295\]",
        ),
    ],
)
def test_bad_adversarial_combinations_are_bad_input(params: dict[str, Any], message: str) -> None:
    with pytest.raises(BadInputError, match=message):
        GeneratorSpec.from_params(**params)


# -- manifests ----------------------------------------------------------------------------


def test_a_manifest_written_before_the_probe_field_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    generate(GeneratorSpec(ops=10), path)
    payload = orjson.loads(Manifest.path_for(path).read_bytes())
    del payload["hash_seed_probe"]
    for name in ("adversarial_kind", "adversarial_bits", "adversarial_hash_seed"):
        del payload["spec"][name]
    Manifest.path_for(path).write_bytes(orjson.dumps(payload))
    manifest = Manifest.read_for(path)
    assert manifest is not None
    assert manifest.hash_seed_probe is None
    assert manifest.spec.adversarial_kind == "full-hash"


@pytest.mark.parametrize(
    "content", [None, b"{not json", b'{"schema": "adhash.workload_manifest.v1"}']
)
def test_read_for_is_none_for_a_missing_or_broken_manifest(
    tmp_path: Path, content: bytes | None
) -> None:
    path = tmp_path / "w.csv"
    path.write_text("op,key,value\n")
    if content is not None:
        Manifest.path_for(path).write_bytes(content)
    assert Manifest.read_for(path) is None
