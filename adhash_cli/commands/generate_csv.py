"""``adhash generate-csv``: write a reproducible workload (and its manifest) from parameters."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated, Any

import typer

from adhash_cli.output import emit

__all__ = ["generate_csv"]


def generate_csv(
    ctx: typer.Context,
    outfile: Annotated[Path, typer.Option(help="Where to write the workload CSV.")],
    preset: Annotated[
        str | None,
        typer.Option(help="Start from a preset: ycsb-a, ycsb-b, ycsb-c, ycsb-d, ycsb-f."),
    ] = None,
    ops: Annotated[
        int | None, typer.Option(help="Operations to generate (default 100000).")
    ] = None,
    read_ratio: Annotated[
        float | None, typer.Option(help="Share of operations that are gets (default 0.8).")
    ] = None,
    del_ratio: Annotated[
        float | None, typer.Option(help="Share of the writes that are deletes (default 0.2).")
    ] = None,
    insert_ratio: Annotated[
        float | None,
        typer.Option(help="Share of the puts that insert a brand-new key (default 0)."),
    ] = None,
    rmw_ratio: Annotated[
        float | None,
        typer.Option(
            help="Share of operations that are read-modify-write, get then put (default 0)."
        ),
    ] = None,
    preload: Annotated[
        bool | None,
        typer.Option("--preload/--no-preload", help="Put every key once before the operations."),
    ] = None,
    key_space: Annotated[
        int | None, typer.Option(help="Number of distinct keys (default 10000).")
    ] = None,
    distribution: Annotated[
        str | None,
        typer.Option(
            help="uniform, zipf, scrambled-zipf, latest, hotspot or sequential (default uniform; "
            "zipf when --key-skew > 0 is given alone)."
        ),
    ] = None,
    key_skew: Annotated[
        float | None, typer.Option(help="Zipf exponent θ > 0 (default 0.99 for the zipf family).")
    ] = None,
    hotspot_fraction: Annotated[
        float | None, typer.Option(help="hotspot: share of the keys that are hot (default 0.2).")
    ] = None,
    hotspot_op_fraction: Annotated[
        float | None,
        typer.Option(help="hotspot: share of operations on the hot keys (default 0.8)."),
    ] = None,
    miss_ratio: Annotated[
        float | None, typer.Option(help="Share of gets for keys never written (default 0).")
    ] = None,
    key_type: Annotated[
        str | None, typer.Option(help="text (K123) or int (123) keys (default text).")
    ] = None,
    key_prefix: Annotated[str | None, typer.Option(help="Prefix of text keys (default K).")] = None,
    value_size: Annotated[
        int | None, typer.Option(help="Characters per value (default 8).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (default 1337).")] = None,
    adversarial_ratio: Annotated[
        float | None,
        typer.Option(
            help="Share of operations on colliding keys (see --adversarial-kind; default 0)."
        ),
    ] = None,
    adversarial_classes: Annotated[
        int | None,
        typer.Option(
            help="Distinct hash() values (low-bits: low-bit residues) among those keys "
            "(default 1; text: 1 only)."
        ),
    ] = None,
    adversarial_keys: Annotated[
        int | None, typer.Option(help="Distinct colliding keys (default 1024).")
    ] = None,
    adversarial_kind: Annotated[
        str | None,
        typer.Option(
            help="full-hash (int keys sharing one full hash(): collide in dict and plain maps), "
            "low-bits (int keys sharing only the low --adversarial-bits bits; index mixing "
            "spreads them) or text (str keys found to share low hash() bits under "
            "--adversarial-hash-seed) (default full-hash)."
        ),
    ] = None,
    adversarial_bits: Annotated[
        int | None,
        typer.Option(
            help="low-bits and text: low bits of hash() the colliding keys share, 1-32 (text: "
            "at most 24; each bit doubles the search) (default 12)."
        ),
    ] = None,
    adversarial_hash_seed: Annotated[
        int | None,
        typer.Option(
            help="text: the PYTHONHASHSEED (0-4294967295) the keys collide under; replay with "
            "that PYTHONHASHSEED set (required for text)."
        ),
    ] = None,
) -> None:
    """Generate a workload CSV: same parameters and seed, same file byte for byte."""
    from adhash.workload.generate import GeneratorSpec, Manifest, generate

    given: dict[str, Any] = {
        name: value
        for name, value in {
            "preset": preset,
            "ops": ops,
            "read_ratio": read_ratio,
            "del_ratio": del_ratio,
            "insert_ratio": insert_ratio,
            "rmw_ratio": rmw_ratio,
            "preload": preload,
            "key_space": key_space,
            "distribution": distribution,
            "key_skew": key_skew,
            "hotspot_fraction": hotspot_fraction,
            "hotspot_op_fraction": hotspot_op_fraction,
            "miss_ratio": miss_ratio,
            "key_type": key_type,
            "key_prefix": key_prefix,
            "value_size": value_size,
            "seed": seed,
            "adversarial_ratio": adversarial_ratio,
            "adversarial_classes": adversarial_classes,
            "adversarial_keys": adversarial_keys,
            "adversarial_kind": adversarial_kind,
            "adversarial_bits": adversarial_bits,
            "adversarial_hash_seed": adversarial_hash_seed,
        }.items()
        if value is not None
    }
    spec = GeneratorSpec.from_params(**given)
    manifest = generate(spec, outfile)
    manifest_path = Manifest.path_for(outfile)
    probe = manifest.hash_seed_probe
    data = {
        "outfile": str(outfile),
        "manifest": str(manifest_path),
        "rows": manifest.rows,
        "size_bytes": manifest.size_bytes,
        "sha256": manifest.sha256,
        **spec.model_dump(mode="json"),
        "hash_seed_probe": probe.model_dump(mode="json") if probe is not None else None,
    }
    text = (
        f"wrote {manifest.rows:,} rows ({manifest.size_bytes:,} bytes, {spec.key_type} keys, "
        f"{spec.distribution}, seed {spec.seed}) to {outfile}\n"
        f"manifest: {manifest_path} (sha256 {manifest.sha256})"
    )
    if probe is not None:
        replay = f"PYTHONHASHSEED={probe.seed} adhash run-csv --csv {shlex.quote(str(outfile))}"
        text += (
            f"\nits adversarial text keys collide only under PYTHONHASHSEED={probe.seed}: "
            f"replay with {replay}"
        )
    emit(ctx, "generate-csv", data, text)
