"""The workload generator: spec validation, presets, distributions, determinism, manifests."""

from __future__ import annotations

import datetime
import hashlib
import math
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from adhash import ChainingMap, GuardrailThresholds, RobinHoodMap
from adhash.errors import BadInputError
from adhash.workload.adversarial import ADVERSARIAL_MODULUS
from adhash.workload.format import Op, WorkloadReader
from adhash.workload.generate import (
    GENERATOR_VERSION,
    PRESETS,
    AffinePermutation,
    GeneratorSpec,
    Manifest,
    generate,
    generate_rows,
)
from adhash.workload.zipf import ZipfSampler

Row = tuple[str, Any, str | None]


def _rows(**params: Any) -> list[Row]:
    spec = GeneratorSpec.from_params(**params)
    return [(op.label, key, value) for op, key, value in generate_rows(spec)]


def _read(path: Path) -> list[Row]:
    with WorkloadReader(path, limits=None) as reader:
        return [(op.label, key, value) for _, op, key, value in reader.rows()]


# -- the spec ------------------------------------------------------------------------------


def test_defaults_are_the_original_generators() -> None:
    spec = GeneratorSpec()
    assert (spec.ops, spec.read_ratio, spec.del_ratio, spec.key_space, spec.seed) == (
        100_000,
        0.8,
        0.2,
        10_000,
        1337,
    )
    assert (spec.distribution, spec.key_type, spec.adversarial_ratio) == ("uniform", "text", 0.0)


def test_every_field_has_a_description() -> None:
    assert all(info.description for info in GeneratorSpec.model_fields.values())


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"ops": 0}, "ops=0 is out of range: allowed an integer in (0, 1000000000]"),
        ({"read_ratio": 1.5}, "read_ratio=1.5 is out of range: allowed [0, 1]"),
        ({"del_ratio": 1.0}, "del_ratio=1.0 is out of range: allowed [0, 1)"),
        ({"key_space": -1}, "key_space=-1 is out of range"),
        ({"distribution": "gauss"}, "allowed one of uniform, zipf, scrambled-zipf, latest"),
        ({"key_type": "bytes"}, "allowed one of text, int"),
        ({"key_prefix": "a,b"}, "allowed letters and underscores, at most 32"),
        ({"value_size": 0}, "value_size=0 is out of range"),
        ({"ops": "many"}, "ops='many' is out of range"),
        ({"opz": 3}, "unknown parameter 'opz'"),
        ({"preset": "ycsb-z"}, "unknown preset 'ycsb-z'; known: ycsb-a"),
    ],
)
def test_bad_parameters_raise_bad_input_naming_the_field(
    params: dict[str, Any], message: str
) -> None:
    with pytest.raises(BadInputError) as caught:
        GeneratorSpec.from_params(**params)
    assert message in str(caught.value)
    assert caught.value.hint


def test_several_bad_parameters_are_reported_together() -> None:
    with pytest.raises(BadInputError, match=r"ops=0 .*; read_ratio=2"):
        GeneratorSpec.from_params(ops=0, read_ratio=2)


def test_a_key_skew_alone_selects_zipf() -> None:
    assert GeneratorSpec.from_params(key_skew=1.1).distribution == "zipf"
    assert GeneratorSpec.from_params(key_skew=0).distribution == "uniform"
    assert GeneratorSpec.from_params(key_skew=1.1, distribution="hotspot").distribution == (
        "hotspot"
    )


def test_zipf_family_needs_a_positive_skew() -> None:
    with pytest.raises(BadInputError, match="distribution 'latest' needs key_skew > 0"):
        GeneratorSpec.from_params(distribution="latest", key_skew=0)


def test_adversarial_keys_need_int_keys() -> None:
    with pytest.raises(BadInputError, match=r"needs key_type 'int'.*PYTHONHASHSEED"):
        GeneratorSpec.from_params(adversarial_ratio=0.1)


def test_adversarial_classes_cannot_outnumber_the_colliding_keys() -> None:
    with pytest.raises(BadInputError, match="every class needs at least one key"):
        GeneratorSpec.from_params(
            key_type="int", adversarial_ratio=1, adversarial_keys=4, adversarial_classes=5
        )


def test_rows_is_known_without_read_modify_write() -> None:
    assert GeneratorSpec(ops=10, preload=True, key_space=7).rows == 17
    assert GeneratorSpec(ops=10, rmw_ratio=0.5).rows is None


# -- presets -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "read_ratio", "distribution"),
    [
        ("ycsb-a", 0.5, "scrambled-zipf"),
        ("ycsb-b", 0.95, "scrambled-zipf"),
        ("ycsb-c", 1.0, "scrambled-zipf"),
        ("ycsb-d", 0.95, "latest"),
        ("ycsb-f", 1.0, "scrambled-zipf"),
    ],
)
def test_ycsb_presets_set_their_mix_and_distribution(
    name: str, read_ratio: float, distribution: str
) -> None:
    spec = GeneratorSpec.from_params(preset=name)
    assert (spec.preset, spec.read_ratio, spec.distribution, spec.key_skew) == (
        name,
        read_ratio,
        distribution,
        0.99,
    )
    assert spec.preload
    assert spec.del_ratio == 0.0


def test_explicit_parameters_override_the_preset() -> None:
    spec = GeneratorSpec.from_params(preset="ycsb-a", read_ratio=0.7, distribution="uniform")
    assert (spec.read_ratio, spec.distribution) == (0.7, "uniform")


def test_ycsb_e_is_refused_because_a_hash_map_cannot_scan() -> None:
    assert PRESETS["ycsb-e"].unsupported
    with pytest.raises(BadInputError, match=r"range scans.*no scan op"):
        GeneratorSpec.from_params(preset="ycsb-e")


def test_ycsb_a_updates_only_existing_keys_and_reads_half_the_time() -> None:
    rows = _rows(preset="ycsb-a", ops=4000, key_space=500)
    loaded = rows[:500]
    assert [key for _, key, _ in loaded] == [f"K{rank}" for rank in range(500)]
    run = rows[500:]
    assert {op for op, _, _ in run} == {"get", "put"}
    assert sum(op == "get" for op, _, _ in run) / len(run) == pytest.approx(0.5, abs=0.03)
    assert {key for _, key, _ in run} <= {key for _, key, _ in loaded}


def test_ycsb_d_inserts_new_keys_and_reads_the_newest_most() -> None:
    rows = _rows(preset="ycsb-d", ops=20_000, key_space=1000)[1000:]
    puts = [key for op, key, _ in rows if op == "put"]
    assert puts == [f"K{rank}" for rank in range(1000, 1000 + len(puts))]
    assert len(puts) / len(rows) == pytest.approx(0.05, abs=0.01)
    reads = Counter(int(key[1:]) for op, key, _ in rows if op == "get")
    hottest = reads.most_common(1)[0][0]
    assert hottest >= 1000  # an inserted key, not one of the preloaded ones


def test_ycsb_f_writes_each_read_modify_write_as_a_get_then_a_put_of_the_same_key() -> None:
    rows = _rows(preset="ycsb-f", ops=2000, key_space=100)[100:]
    puts = [index for index, (op, _, _) in enumerate(rows) if op == "put"]
    assert puts
    assert all(
        rows[index - 1][0] == "get" and rows[index - 1][1] == rows[index][1] for index in puts
    )
    assert len(puts) / 2000 == pytest.approx(0.5, abs=0.04)
    assert len(rows) == 2000 + len(puts)


# -- operations and keys -------------------------------------------------------------------


def test_the_op_mix_follows_read_and_delete_ratios() -> None:
    counts = Counter(op for op, _, _ in _rows(ops=20_000, read_ratio=0.6, del_ratio=0.25))
    assert counts["get"] / 20_000 == pytest.approx(0.6, abs=0.02)
    assert counts["del"] / (counts["put"] + counts["del"]) == pytest.approx(0.25, abs=0.02)


def test_text_keys_carry_the_prefix_and_int_keys_are_ranks() -> None:
    text = _rows(ops=200, key_space=50, key_prefix="user_")
    assert all(key.startswith("user_") and 0 <= int(key[5:]) < 50 for _, key, _ in text)
    ints = _rows(ops=200, key_space=50, key_type="int")
    assert all(isinstance(key, int) and 0 <= key < 50 for _, key, _ in ints)


def test_values_have_value_size_characters_and_gets_and_deletes_have_none() -> None:
    rows = _rows(ops=500, value_size=13)
    assert {len(value or "") for op, _, value in rows if op == "put"} == {13}
    assert {value for op, _, value in rows if op != "put"} == {None}


def test_misses_aim_at_keys_that_are_never_written() -> None:
    rows = _rows(ops=3000, preload=True, key_space=200, miss_ratio=1.0, del_ratio=0.0)
    written = {key for op, key, _ in rows if op == "put"}
    reads = [key for op, key, _ in rows if op == "get"]
    assert reads
    assert not written & set(reads)


def test_a_partial_miss_ratio_misses_that_share_of_gets() -> None:
    rows = _rows(ops=10_000, preload=True, key_space=100, miss_ratio=0.3, read_ratio=1.0)
    reads = [key for op, key, _ in rows[100:]]
    missed = sum(key.startswith("K-") for key in reads)
    assert missed / len(reads) == pytest.approx(0.3, abs=0.02)


def test_uniform_ranks_cover_the_key_space_evenly() -> None:
    counts = Counter(_rows(ops=20_000, key_space=10, key_type="int", read_ratio=1.0))
    per_key = Counter(key for _, key, _ in counts.elements())
    assert set(per_key) == set(range(10))
    assert max(per_key.values()) / min(per_key.values()) < 1.15


def test_zipf_ranks_follow_the_zipf_pmf() -> None:
    rows = _rows(ops=30_000, key_space=50, key_type="int", read_ratio=1.0, key_skew=1.2)
    per_key = Counter(key for _, key, _ in rows)
    total = sum((rank + 1) ** -1.2 for rank in range(50))
    assert per_key[0] / 30_000 == pytest.approx(1 / total, rel=0.05)
    assert per_key[0] > per_key[1] > per_key[2]


def test_hotspot_sends_the_op_fraction_to_the_hot_fraction() -> None:
    rows = _rows(
        ops=20_000,
        key_space=1000,
        key_type="int",
        distribution="hotspot",
        hotspot_fraction=0.1,
        hotspot_op_fraction=0.9,
    )
    hot = sum(key < 100 for _, key, _ in rows)
    assert hot / 20_000 == pytest.approx(0.9, abs=0.01)
    assert {key for _, key, _ in rows if key >= 100}
    assert max(key for _, key, _ in rows) < 1000


def test_sequential_ranks_count_up_and_wrap() -> None:
    rows = _rows(ops=12, key_space=5, key_type="int", distribution="sequential", read_ratio=1.0)
    assert [key for _, key, _ in rows] == [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1]


def test_latest_without_inserts_reads_the_highest_rank_most() -> None:
    rows = _rows(ops=5000, key_space=300, key_type="int", distribution="latest", read_ratio=1.0)
    per_key = Counter(key for _, key, _ in rows)
    assert per_key.most_common(1)[0][0] == 299


# -- scrambled zipf ------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 12, 97, 1024, 10_000])
def test_the_affine_scramble_is_a_permutation(n: int) -> None:
    import random

    for seed in range(5):
        permutation = AffinePermutation.from_rng(n, random.Random(seed))
        assert math.gcd(permutation.multiplier, n) == 1
        assert sorted(map(permutation, range(n))) == list(range(n))


def test_the_affine_scramble_rejects_a_multiplier_sharing_a_factor_with_n() -> None:
    with pytest.raises(BadInputError, match="not coprime"):
        AffinePermutation(12, 4, 0)


def test_scrambled_zipf_moves_the_hottest_key_away_from_rank_zero() -> None:
    hottest = []
    for seed in range(8):
        rows = _rows(
            ops=3000,
            key_space=1000,
            key_type="int",
            distribution="scrambled-zipf",
            read_ratio=1.0,
            seed=seed,
        )
        hottest.append(Counter(key for _, key, _ in rows).most_common(1)[0][0])
    assert sum(rank != 0 for rank in hottest) >= 7
    assert len(set(hottest)) >= 6


def test_scrambled_zipf_keeps_the_zipf_frequencies() -> None:
    params = {"ops": 30_000, "key_space": 200, "key_type": "int", "read_ratio": 1.0}
    scrambled = Counter(
        key for _, key, _ in _rows(distribution="scrambled-zipf", key_skew=1.0, **params)
    )
    plain = Counter(key for _, key, _ in _rows(distribution="zipf", key_skew=1.0, **params))
    top_scrambled = [count for _, count in scrambled.most_common(5)]
    top_plain = [count for _, count in plain.most_common(5)]
    for a, b in zip(top_scrambled, top_plain, strict=True):
        assert a == pytest.approx(b, rel=0.1)


# -- adversarial keys ----------------------------------------------------------------------


def test_adversarial_keys_share_one_hash_per_class() -> None:
    rows = _rows(
        ops=6000,
        key_space=900,
        key_type="int",
        adversarial_ratio=1.0,
        adversarial_keys=300,
        adversarial_classes=3,
    )
    keys = {key for _, key, _ in rows}
    assert all(key >= ADVERSARIAL_MODULUS for key in keys)
    assert {hash(key) for key in keys} == {0, 1, 2}
    assert len(keys) == 300


def test_an_adversarial_ratio_replaces_that_share_of_keys() -> None:
    rows = _rows(ops=10_000, key_type="int", adversarial_ratio=0.25)
    adversarial = sum(key >= ADVERSARIAL_MODULUS for _, key, _ in rows)
    assert adversarial / 10_000 == pytest.approx(0.25, abs=0.02)


def test_adversarial_keys_really_collide_in_the_maps(tmp_path: Path) -> None:
    common = {"ops": 1200, "key_space": 1000, "key_type": "int", "read_ratio": 0.0}
    common["del_ratio"] = 0.0
    adversarial_path, uniform_path = tmp_path / "adv.csv", tmp_path / "uni.csv"
    generate(
        GeneratorSpec.from_params(adversarial_ratio=1.0, adversarial_keys=400, **common),
        adversarial_path,
    )
    generate(GeneratorSpec.from_params(**common), uniform_path)
    shapes = {}
    for label, path in (("adversarial", adversarial_path), ("uniform", uniform_path)):
        keys = [key for _, key, _ in _read(path)]
        chaining: ChainingMap[int, None] = ChainingMap(hash_seed=1)
        robinhood: RobinHoodMap[int, None] = RobinHoodMap(hash_seed=1)
        for key in keys:
            chaining[key] = None
            robinhood[key] = None
        shapes[label] = (chaining.stats(), robinhood.stats())
    thresholds = GuardrailThresholds()
    (adv_chain, adv_probe), (uni_chain, uni_probe) = shapes["adversarial"], shapes["uniform"]
    assert adv_chain.chain_length_max is not None
    assert uni_chain.chain_length_max is not None
    assert adv_probe.probe_length_mean is not None
    assert uni_probe.probe_length_mean is not None
    assert adv_chain.chain_length_max > 10 * uni_chain.chain_length_max
    assert adv_chain.chain_length_max > (thresholds.chain_length_max or 0)
    assert adv_probe.probe_length_mean > 10 * max(uni_probe.probe_length_mean, 0.1)
    assert adv_probe.probe_length_mean > (thresholds.probe_length_mean or 0)


# -- files, determinism, manifests ---------------------------------------------------------


def test_the_same_seed_writes_a_byte_identical_file(tmp_path: Path) -> None:
    spec = GeneratorSpec.from_params(ops=5000, preset="ycsb-f", key_space=300)
    first = generate(spec, tmp_path / "a.csv")
    second = generate(GeneratorSpec.from_params(**spec.model_dump()), tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert first.sha256 == second.sha256
    other = generate(spec.model_copy(update={"seed": 2}), tmp_path / "c.csv")
    assert other.sha256 != first.sha256


def test_the_file_reads_back_as_the_rows_generated(tmp_path: Path) -> None:
    spec = GeneratorSpec.from_params(ops=3000, key_type="int", adversarial_ratio=0.2)
    generate(spec, tmp_path / "w.csv")
    assert _read(tmp_path / "w.csv") == [
        (op.label, key, value) for op, key, value in generate_rows(spec)
    ]


def test_the_manifest_describes_the_file(tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    spec = GeneratorSpec.from_params(preset="ycsb-b", ops=1000, key_space=100, seed=11)
    manifest = generate(spec, path)
    data = path.read_bytes()
    assert manifest.rows == 1100 == len(_read(path))
    assert manifest.size_bytes == len(data)
    assert manifest.sha256 == hashlib.sha256(data).hexdigest()
    assert (manifest.preset, manifest.seed, manifest.key_type) == ("ycsb-b", 11, "text")
    assert manifest.generator_version == GENERATOR_VERSION
    created = datetime.datetime.fromisoformat(manifest.created_at)
    assert created.utcoffset() == datetime.timedelta(0)
    stored = Manifest.model_validate_json(Manifest.path_for(path).read_bytes())
    assert stored == manifest
    assert stored.spec == spec
    assert (
        Manifest.path_for(path)
        .read_text()
        .startswith('{\n  "schema": "adhash.workload_manifest.v1"')
    )


def test_writes_one_op_per_row_in_the_workload_format(tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    generate(GeneratorSpec(ops=3, key_type="int", read_ratio=0.0, del_ratio=0.0, seed=3), path)
    lines = path.read_text().splitlines()
    assert lines[0] == "op,key:int,value"
    assert len(lines) == 4
    assert all(line.startswith("put,") for line in lines[1:])


@pytest.mark.slow
def test_a_million_rows_generate_well_under_ten_seconds(tmp_path: Path) -> None:
    start = time.perf_counter()
    manifest = generate(GeneratorSpec(ops=1_000_000, distribution="zipf"), tmp_path / "big.csv")
    assert manifest.rows == 1_000_000
    assert time.perf_counter() - start < 10


def test_generate_rows_yields_workload_ops() -> None:
    spec = GeneratorSpec(ops=50)
    assert {type(op) for op, _, _ in generate_rows(spec)} == {Op}


def test_sampler_and_generator_agree_on_theta_one() -> None:
    # theta = 1 is a valid Zipf exponent here (YCSB's formula divides by 1 - theta).
    assert GeneratorSpec.from_params(key_skew=1.0).distribution == "zipf"
    assert ZipfSampler(10, 1.0).theta == 1.0
