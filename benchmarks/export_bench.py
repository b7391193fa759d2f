"""Latency, multiply-accumulates, size and XNNPACK delegation of exported .tflite generators (a script, not a test).

For each generator (random-init weights: latency does not depend on them) and each variant, the script
converts float32 / float16 / int8 .tflite files (int8 calibrated on 16 facades label maps from ../shared,
built-in synthetic maps where absent; test-time dropout off, batch norm on each image's statistics) and
measures each with LiteRT's interpreter and its default XNNPACK delegate: the median ms of one frame on each
thread count (`tfgan_translate.export.latency.median_ms`), the MACs counted from the graph, the file size,
and the XNNPACK partitions (`tfgan_translate.export.delegation.xnnpack_report`).

Variants:

- ``after``: the files `tfgan-translate export` writes (every op in one XNNPACK partition);
- ``before``: the same files without the XNNPACK rewrites (`convert(..., xnnpack=False)`: MIRROR_PAD,
  GREATER_EQUAL + CAST dropout masks, full-integer int8, instance-norm variance as SQUARED_DIFFERENCE).

    python benchmarks/export_bench.py                          # the README table: both variants, 1 and 2 threads
    python benchmarks/export_bench.py --variants after --threads 1,4 --json out.json
    python benchmarks/export_bench.py --models unet_64,resnet_6blocks --size 64 --ngf 8 --runs 3   # a quick check
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import tensorflow as tf
from keras import ops

from tfgan_translate.data import paired_samples
from tfgan_translate.export import inference_copy
from tfgan_translate.export.delegation import xnnpack_report
from tfgan_translate.export.latency import count_macs, median_ms
from tfgan_translate.export.representative import synthetic_images
from tfgan_translate.export.tflite import convert
from tfgan_translate.networks import InstanceNormalization, build_generator

FACADES = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "facades"
QUANTIZATIONS = {"none": "float32", "float16": "float16", "int8": "int8"}


@contextlib.contextmanager
def _squared_difference_variance(active: bool):
    """While active, instance norm computes its variance as before the rewrites: mean(square(x - mean))."""
    if not active:
        yield
        return
    new_call = InstanceNormalization.call

    def call(self, inputs, training=None):
        x = ops.cast(inputs, "float32")
        mean = ops.mean(x, axis=(1, 2), keepdims=True)
        y = (x - mean) * ops.rsqrt(ops.mean(ops.square(x - mean), axis=(1, 2), keepdims=True) + self.epsilon)
        y = y * ops.cast(self.gamma, "float32") if self.scale else y
        return ops.cast(y + ops.cast(self.beta, "float32") if self.center else y, self.compute_dtype)

    InstanceNormalization.call = call
    try:
        yield
    finally:
        InstanceNormalization.call = new_call


def _calibration(size: int, data: Path | None):
    if data is None:
        return synthetic_images(16, (size, size), 3, seed=1)
    return paired_samples(data, split="train", count=16, direction="BtoA", image_size=size)[0]


def bench(netG: str, variant: str, *, size: int, ngf: int, threads: list[int], runs: int, calibration,
          out: Path | None) -> list[dict]:
    keras.utils.set_random_seed(0)
    generator = build_generator(netG, ngf=ngf)  # the reference defaults: the U-Net with batch norm and dropout
    with _squared_difference_variance(variant == "before"):
        copy = inference_copy(generator, "off", "image")
        files = convert(copy, tuple(QUANTIZATIONS), image_size=(size, size), representative=calibration,
                        xnnpack=variant == "after")
    rows = []
    for quantize, content in files.items():
        if out is not None:
            (out / f"{netG}_{variant}_{QUANTIZATIONS[quantize]}.tflite").write_bytes(content)
        report = xnnpack_report(content)
        row = {"generator": netG, "variant": variant, "quantization": QUANTIZATIONS[quantize],
               "ms": {str(n): median_ms(content, n, runs=runs) for n in threads}, "gmac": count_macs(content) / 1e9,
               "mb": len(content) / 1e6, "partitions": report["partitions"],
               "not_delegated": {op["op"]: op["count"] for op in report["not_delegated"]}}
        rows.append(row)
        print(f"  {netG} {variant} {row['quantization']}: "
              + ", ".join(f"{ms:.1f} ms ({n} thr)" for n, ms in row["ms"].items())
              + f", {row['gmac']:.3g} GMAC, {row['mb']:.2f} MB, {row['partitions']} partitions", flush=True)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="unet_256,resnet_9blocks", help="comma-separated generator names")
    parser.add_argument("--variants", default="before,after", help="comma-separated: before, after")
    parser.add_argument("--size", type=int, default=256, help="input height and width")
    parser.add_argument("--ngf", type=int, default=64, help="generator width (the reference's 64)")
    parser.add_argument("--threads", default="1,2", help="comma-separated interpreter thread counts")
    parser.add_argument("--runs", type=int, default=20, help="timed runs per file and thread count (median)")
    parser.add_argument("--data", default=str(FACADES),
                        help="paired set whose label maps calibrate int8 (default: the facades set in ../shared; "
                             "built-in synthetic maps where absent)")
    parser.add_argument("--out", default=None, help="folder to keep the .tflite files in (default: not kept)")
    parser.add_argument("--json", default=None, help="results file (default: none)")
    args = parser.parse_args(argv)

    threads = [int(n) for n in args.threads.split(",")]
    data = Path(args.data) if (Path(args.data) / "train").is_dir() else None
    out = Path(args.out) if args.out else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    print(f"{args.size}x{args.size} px, median of {args.runs} runs after 3 warm-up runs, {os.cpu_count()} CPU "
          f"cores; int8 calibrated on {data or 'built-in synthetic label maps'}")
    calibration = _calibration(args.size, data)
    rows = [row for netG in args.models.split(",") for variant in args.variants.split(",")
            for row in bench(netG.strip(), variant.strip(), size=args.size, ngf=args.ngf, threads=threads,
                             runs=args.runs, calibration=calibration, out=out)]

    print()
    print("| generator | variant | file | " + " | ".join(f"ms, {n} thread{'s' * (n > 1)}" for n in threads)
          + " | GMAC | MB | XNNPACK partitions | outside XNNPACK |")
    print("|---|---|---|" + "---:|" * (len(threads) + 4) + "")
    for row in rows:
        outside = ", ".join(f"{op} x{count}" for op, count in row["not_delegated"].items()) or "-"
        print(f"| {row['generator']} | {row['variant']} | {row['quantization']} | "
              + " | ".join(f"{row['ms'][str(n)]:.1f}" for n in threads)
              + f" | {row['gmac']:.3g} | {row['mb']:.2f} | {row['partitions']} | {outside} |")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "command": " ".join(["python", "benchmarks/export_bench.py", *(argv or sys.argv[1:])]),
            "image_size": args.size, "runs": args.runs, "cpu_count": os.cpu_count(), "machine": platform.machine(),
            "tensorflow": tf.__version__, "keras": keras.__version__, "rows": rows}, indent=2) + "\n")
        print(f"\nJSON: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
