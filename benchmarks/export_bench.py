"""Latency per 256x256 image and file sizes of exported generators (a script, not a test).

For each generator (random-init weights: latency does not depend on them), the
export writes a SavedModel and float32 / float16 / int8 .tflite files (int8
calibrated on 16 facades label maps from ../shared, built-in synthetic maps
where absent), then each runtime translates one
256x256 image: warm-up runs, then rounds in which the runtimes take turns
(so that a slow spell of the shared machine hits them all), median reported.

    python benchmarks/export_bench.py                       # unet_256 and resnet_9blocks
    python benchmarks/export_bench.py --models unet_256 --rounds 5 --json out.json

Runtimes: Keras (`predict_on_batch`), SavedModel (`serving_default` signature,
loaded with `tf.saved_model.load`), TFLite through `ai_edge_litert`'s
Interpreter with its default XNNPACK delegate and `--threads` threads.
`tflite_float32_transpose_conv` is the float32 file converted with
TRANSPOSE_CONV kept (`export --keep-transpose-conv`), to show what the
sub-pixel rewrite (`tfgan_translate.export.subpixel`) gains.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import tensorflow as tf

from tfgan_translate.data import paired_samples
from tfgan_translate.export import TFLiteRunner, export_generator, inference_copy
from tfgan_translate.export.parity import compare
from tfgan_translate.export.representative import synthetic_images
from tfgan_translate.export.tflite import convert
from tfgan_translate.networks import build_generator

SIZE = 256
FACADES = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "facades"
# The reference defaults: pix2pix's U-Net with batch norm and dropout, CycleGAN's ResNet with instance norm.
GENERATORS = {
    "unet_256": {"norm": "batch", "dropout": 0.5},
    "resnet_9blocks": {"norm": "instance", "dropout": 0.0},
}


def _interleaved_medians(runs: dict, warmup: int, repeats: int, rounds: int) -> dict:
    """{name: median seconds}: `warmup` untimed calls each, then `rounds` rounds of `repeats` timed calls per runtime.

    Runtimes take turns round by round, so a slow spell of the shared machine
    hits them all alike and the ratios between them stay meaningful.
    """
    for run in runs.values():
        for _ in range(warmup):
            run()
    times = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            for _ in range(repeats):
                start = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def _folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _images(data: Path | None):
    """(calibration, x): 16 training label maps and one test label map of facades, else synthetic maps."""
    if data is None:
        return synthetic_images(16, (SIZE, SIZE), 3, seed=1), synthetic_images(1, (SIZE, SIZE), 3, seed=2)
    calibration, _ = paired_samples(data, split="train", count=16, direction="BtoA", image_size=SIZE)
    x, _ = paired_samples(data, split="test", count=1, direction="BtoA", image_size=SIZE)
    return calibration, x


def bench_generator(netG: str, out_root: Path, *, data: Path | None, warmup: int, repeats: int, rounds: int,
                    threads: int) -> dict:
    keras.utils.set_random_seed(0)
    generator = build_generator(netG, ngf=64, **GENERATORS[netG])
    calibration, x = _images(data)

    start = time.perf_counter()
    result = export_generator(generator, out_root / netG, quantize=("none", "float16", "int8"),
                              representative_data=calibration, image_size=SIZE, test_dropout="off",
                              test_batch_norm="moving")  # the reference's --eval: what Keras' predict computes
    export_seconds = time.perf_counter() - start
    keras_file = out_root / f"{netG}.keras"
    generator.save(keras_file)

    for layer in generator.layers:  # deterministic, as exported (test_dropout="off", moving statistics)
        if hasattr(layer, "at_inference"):
            layer.at_inference = False
    serve = tf.saved_model.load(str(result.saved_model)).signatures["serving_default"]
    x_tensor = tf.constant(x)
    runtimes = {
        "keras": (lambda: generator.predict_on_batch(x), keras_file.stat().st_size),
        "saved_model": (lambda: serve(image=x_tensor)["output"].numpy(), _folder_size(result.saved_model)),
    }
    for quantize, path in result.tflite.items():
        runner = TFLiteRunner(path, num_threads=threads)
        runtimes[f"tflite_{'float32' if quantize == 'none' else quantize}"] = (
            lambda runner=runner: runner(x), path.stat().st_size)
    # The same float32 file with TRANSPOSE_CONV kept (export --keep-transpose-conv): what the sub-pixel rewrite gains.
    kept = out_root / f"{netG}_float32_transpose_conv.tflite"
    kept.write_bytes(convert(inference_copy(generator, "off", "moving"), ("none",), image_size=(SIZE, SIZE),
                             subpixel=False)["none"])
    kept_runner = TFLiteRunner(kept, num_threads=threads)
    runtimes["tflite_float32_transpose_conv"] = (lambda: kept_runner(x), kept.stat().st_size)

    medians = _interleaved_medians({name: run for name, (run, _) in runtimes.items()}, warmup, repeats, rounds)
    rows = {}
    for name, (_, size) in runtimes.items():
        rows[name] = {"latency_s": medians[name], "size_mb": size / 1e6}
        print(f"  {netG:15s} {name:30s} {medians[name] * 1000:9.1f} ms  {size / 1e6:8.2f} MB", flush=True)
    parity = {k: v for k, v in result.metadata["parity"].items() if isinstance(v, dict) and "psnr_db" in v}
    for name, figures in parity.items():
        rows[name].update(max_abs_diff=figures["max_abs_diff"], psnr_db=figures["psnr_db"])
    kept_parity = compare(generator.predict_on_batch(x), kept_runner(x))
    rows["tflite_float32_transpose_conv"].update(max_abs_diff=kept_parity["max_abs_diff"],
                                                 psnr_db=kept_parity["psnr_db"])
    return {"runtimes": rows, "export_seconds": export_seconds}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(GENERATORS), help="comma-separated: unet_256, resnet_9blocks")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per runtime and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds in which the runtimes take turns")
    parser.add_argument("--data", default=str(FACADES),
                        help="paired set whose label maps calibrate int8 and are translated (default: the facades "
                             "set in ../shared; built-in synthetic maps where absent)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="TFLite interpreter threads")
    parser.add_argument("--out", default="exports/benchmark", help="folder for the exported models")
    parser.add_argument("--json", default=None, help="results file (default: OUT/export_bench.json)")
    args = parser.parse_args(argv)

    out_root = Path(args.out)
    out_root.mkdir(parents=True, exist_ok=True)
    print(f"Latency per {SIZE}x{SIZE} image (median of {args.rounds} interleaved rounds of {args.repeats} runs "
          f"after {args.warmup} warm-up runs), "
          f"{os.cpu_count()} CPU cores, TFLite threads {args.threads}")
    data = Path(args.data) if (Path(args.data) / "train").is_dir() else None
    print(f"Images: {data or 'built-in synthetic label maps'}")
    results = {}
    for netG in args.models.split(","):
        results[netG] = bench_generator(netG.strip(), out_root, data=data, warmup=args.warmup, repeats=args.repeats,
                                        rounds=args.rounds, threads=args.threads)

    print()
    print("| generator | runtime | latency (ms) | speed vs TFLite float32 | size (MB) | PSNR vs Keras (dB) |")
    print("|---|---|---:|---:|---:|---:|")
    for netG, result in results.items():
        rows = result["runtimes"]
        base = rows["tflite_float32"]["latency_s"]
        for name, row in rows.items():
            psnr = row.get("psnr_db")
            psnr_text = "-" if name == "keras" else ("identical" if psnr is None else f"{psnr:.1f}")
            print(f"| {netG} | {name} | {row['latency_s'] * 1000:.1f} | {base / row['latency_s']:.2f}x | "
                  f"{row['size_mb']:.2f} | {psnr_text} |")
    document = {
        "image_size": SIZE, "warmup": args.warmup, "repeats": args.repeats, "rounds": args.rounds,
        "tflite_threads": args.threads,
        "cpu_count": os.cpu_count(), "machine": platform.machine(), "python": sys.version.split()[0],
        "images": str(data or "synthetic"), "tensorflow": tf.__version__, "keras": keras.__version__,
        "results": results,
    }
    path = Path(args.json) if args.json else out_root / "export_bench.json"
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nJSON: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
