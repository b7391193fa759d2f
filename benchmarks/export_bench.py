"""Latency per 256x256 image and file sizes of exported generators (a script, not a test).

For each generator (random-init weights: latency does not depend on them), the
export writes a SavedModel and float32 / float16 / int8 .tflite files (int8
calibrated on built-in synthetic label maps), then each runtime translates one
256x256 image: warm-up runs, then repeated timed runs, median reported.

    python benchmarks/export_bench.py                       # unet_256 and resnet_9blocks
    python benchmarks/export_bench.py --models unet_256 --repeats 10 --json out.json

Runtimes: Keras (`predict_on_batch`), SavedModel (`serving_default` signature,
loaded with `tf.saved_model.load`), TFLite through `ai_edge_litert`'s
Interpreter with its default XNNPACK delegate and `--threads` threads.
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

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfgan_translate.export import TFLiteRunner, export_generator  # noqa: E402
from tfgan_translate.export.representative import synthetic_images  # noqa: E402
from tfgan_translate.networks import build_generator  # noqa: E402

SIZE = 256
# The reference defaults: pix2pix's U-Net with batch norm and dropout, CycleGAN's ResNet with instance norm.
GENERATORS = {
    "unet_256": {"norm": "batch", "dropout": 0.5},
    "resnet_9blocks": {"norm": "instance", "dropout": 0.0},
}


def _median_seconds(run, warmup: int, repeats: int) -> float:
    for _ in range(warmup):
        run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def bench_generator(netG: str, out_root: Path, *, warmup: int, repeats: int, threads: int) -> dict:
    keras.utils.set_random_seed(0)
    generator = build_generator(netG, ngf=64, **GENERATORS[netG])
    calibration = synthetic_images(16, (SIZE, SIZE), 3, seed=1)
    x = synthetic_images(1, (SIZE, SIZE), 3, seed=2)

    start = time.perf_counter()
    result = export_generator(generator, out_root / netG, quantize=("none", "float16", "int8"),
                              representative_data=calibration, image_size=SIZE)
    export_seconds = time.perf_counter() - start
    keras_file = out_root / f"{netG}.keras"
    generator.save(keras_file)

    for layer in generator.layers:  # the deterministic policy, as exported (noise="off")
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

    rows = {}
    for name, (run, size) in runtimes.items():
        seconds = _median_seconds(run, warmup, repeats)
        rows[name] = {"latency_s": seconds, "size_mb": size / 1e6}
        print(f"  {netG:15s} {name:15s} {seconds * 1000:9.1f} ms  {size / 1e6:8.2f} MB", flush=True)
    parity = {k: v for k, v in result.metadata["parity"].items() if isinstance(v, dict) and "psnr_db" in v}
    for name, figures in parity.items():
        rows[name].update(max_abs_diff=figures["max_abs_diff"], psnr_db=figures["psnr_db"])
    return {"runtimes": rows, "export_seconds": export_seconds}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(GENERATORS), help="comma-separated: unet_256, resnet_9blocks")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="TFLite interpreter threads")
    parser.add_argument("--out", default="exports/benchmark", help="folder for the exported models")
    parser.add_argument("--json", default=None, help="results file (default: OUT/export_bench.json)")
    args = parser.parse_args(argv)

    out_root = Path(args.out)
    out_root.mkdir(parents=True, exist_ok=True)
    print(f"Latency per {SIZE}x{SIZE} image (median of {args.repeats} after {args.warmup} warm-up runs), "
          f"{os.cpu_count()} CPU cores, TFLite threads {args.threads}")
    results = {}
    for netG in args.models.split(","):
        results[netG] = bench_generator(netG.strip(), out_root, warmup=args.warmup, repeats=args.repeats,
                                        threads=args.threads)

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
        "image_size": SIZE, "warmup": args.warmup, "repeats": args.repeats, "tflite_threads": args.threads,
        "cpu_count": os.cpu_count(), "machine": platform.machine(), "python": sys.version.split()[0],
        "tensorflow": tf.__version__, "keras": keras.__version__, "results": results,
    }
    path = Path(args.json) if args.json else out_root / "export_bench.json"
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nJSON: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
