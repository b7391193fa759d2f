"""Training and inference speed of pix2pix, CycleGAN, CUT and FastCUT, measured in one process.

For each case (model x batch x precision) the script builds the reference
architecture at the chosen size, warms it up, then times training steps in
rounds that visit every case in turn (interleaved and repeated, so a noisy
shared machine slows all cases alike), and reports the median. Next to the
times it prints:

- the FLOPs of one training step, counted from the step's graph (TF profiler)
  with direct convolutions, and utilisation = those FLOPs per second / the
  FLOP/s of a large matmul measured in the same run at the same precision (a
  ratio that survives a noisy machine). The Winograd convolutions
  (ResNet blocks, the PatchGAN's stride-1 4x4) do about 4x fewer
  multiply-adds than they are counted for, so "utilisation" can pass 100 %:
  read it as direct-convolution-equivalent (`--winograd on off` times both);
- generator inference time per image;
- tf.data throughput of the paired and unpaired pipelines with full
  preprocessing (decode, resize 286, random crop 256, flip), in images/s, next
  to the images/s the training step consumes;
- peak resident memory;
- with `--reference-repo`, the PyTorch reference's step on the same machine, timed by
  `reference_step.py` in each round between this package's cases (so "vs ref" is a ratio
  measured in one run); without it, the figures of ../shared/REFERENCE.md's AMD EPYC.

    python benchmarks/bench.py                       # pix2pix + CycleGAN at 256, batch 1 and 4
    python benchmarks/bench.py --models pix2pix --batches 1 --rounds 5 --json bench.json
    python benchmarks/bench.py --models cut fastcut cyclegan --size 128 --batches 1 --precisions float32
    python benchmarks/bench.py --batches 1 --reference-repo ~/pytorch-CycleGAN-and-pix2pix   # needs torch

Peak RSS is the process's: for one model's memory, run it alone (`--models cut`).

It runs unchanged on a GPU (TensorFlow places the work there).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf
from tensorflow.python.profiler import model_analyzer, option_builder

from tfgan_translate.accelerate import FusedAdam, accelerate
from tfgan_translate.config import CUTConfig, CycleGANConfig, Pix2PixConfig
from tfgan_translate.data import paired_dataset, unpaired_dataset, write_synthetic_dataset
from tfgan_translate.training.precision import precision_scope, wrap_optimizer
from tfgan_translate.training.run import build_model

# The reference PyTorch implementation on the AMD EPYC 2-core CPU of ../shared/REFERENCE.md (batch 1, 256x256);
# --reference-repo measures it on this machine instead.
REFERENCE_STEP_SECONDS = {"pix2pix": 0.785, "cyclegan": 11.2}


def reference_step_seconds(repo: str, model: str, steps: int) -> float:
    """The PyTorch reference's step time on this machine (median of `steps`), from reference_step.py."""
    done = subprocess.run([sys.executable, str(Path(__file__).with_name("reference_step.py")), "--repo", repo,
                           "--model", model, "--steps", str(steps)], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"reference_step.py failed: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])["step_seconds"]


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def graph_flops(concrete_function) -> float:
    options = option_builder.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return float(model_analyzer.profile(concrete_function.graph, options=options).total_float_ops)


def matmul_flops_per_second(dtype: str, n: int = 2048, repeats: int = 10) -> float:
    """FLOP/s of an n x n matmul: the practical ceiling the utilisation figures refer to."""
    a = tf.random.normal([n, n], dtype=tf.float32)
    a = tf.cast(a, dtype)
    matmul = tf.function(lambda x: tf.linalg.matmul(x, x))
    matmul(a).numpy()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        matmul(a).numpy()
        times.append(time.perf_counter() - start)
    return 2 * n**3 / statistics.median(times)


class Case:
    """One model x batch x precision: a compiled model, a compiled step, a constant batch."""

    def __init__(self, model_name: str, batch: int, precision: str, size: int, jit: bool, adam: str = "fused",
                 winograd: bool = True):
        self.name = (f"{model_name} b{batch} {precision}{' xla' if jit else ''}"
                     f"{' keras-adam' if adam == 'keras' else ''}{' direct-conv' if not winograd else ''}")
        self.model_name, self.batch, self.precision = model_name, batch, precision
        if model_name == "pix2pix":  # unet_256 (or unet_<size>) + 70x70 PatchGAN, batch norm
            config = Pix2PixConfig(image_size=size, netG=f"unet_{size}", batch_size=batch)
        elif model_name == "cyclegan":  # resnet_9blocks, instance norm, image pool
            config = CycleGANConfig(image_size=size, netG="resnet_9blocks", batch_size=batch)
        else:  # CUT / FastCUT: one anti-aliased resnet_9blocks, D, the projection heads F (the authors' defaults)
            config = CUTConfig(mode=model_name, image_size=size, batch_size=batch)
        with precision_scope(precision):
            self.model = build_model(config)
        optimizer = FusedAdam if adam == "fused" else keras.optimizers.Adam  # training uses FusedAdam
        self.model.compile(g_optimizer=wrap_optimizer(optimizer(2e-4, beta_1=0.5), precision),
                           d_optimizer=wrap_optimizer(optimizer(2e-4, beta_1=0.5), precision))
        rng = np.random.default_rng(0)
        self.x = tf.constant(rng.uniform(-1, 1, (batch, size, size, 3)).astype(np.float32))
        self.y = tf.constant(rng.uniform(-1, 1, (batch, size, size, 3)).astype(np.float32))
        specs = (tf.TensorSpec(self.x.shape), tf.TensorSpec(self.y.shape))
        accelerate(self.model, winograd=False)  # count the FLOPs of direct convolutions
        self.flops = graph_flops(tf.function(lambda x, y: self.model.train_step((x, y))).get_concrete_function(*specs))
        accelerate(self.model, winograd=winograd)  # as training does
        self.step = tf.function(lambda x, y: self.model.train_step((x, y)), jit_compile=jit)
        self.step.get_concrete_function(*specs)
        generator = self.model.generators[0]
        self.infer = tf.function(lambda x: generator(x, training=False), jit_compile=jit)
        self.times: list[float] = []
        self.infer_times: list[float] = []

    def run(self, steps: int) -> None:
        for _ in range(steps):
            start = time.perf_counter()
            logs = self.step(self.x, self.y)
            float(next(iter(logs.values())))  # wait for the step to finish
            self.times.append(time.perf_counter() - start)
        start = time.perf_counter()
        np.asarray(self.infer(self.x[:1]))
        self.infer_times.append(time.perf_counter() - start)

    def warm_up(self) -> None:
        self.run(2)
        self.times.clear()
        self.infer_times.clear()


def pipeline_throughput(kind: str, root: Path, size: int, batches: int = 60) -> float:
    """Images/s of the training input pipeline with full preprocessing (resize, random crop, flip)."""
    load = int(round(size * 286 / 256))
    if kind == "paired":
        ds = paired_dataset(root, split="train", image_size=size, load_size=load, batch_size=1, repeat=True)
    else:
        ds = unpaired_dataset(root, split="train", image_size=size, load_size=load, batch_size=1, repeat=True)
    iterator = iter(ds)
    for _ in range(5):
        next(iterator)
    start = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    return batches / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["pix2pix", "cyclegan"],
                        choices=["pix2pix", "cyclegan", "cut", "fastcut"])
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 4])
    parser.add_argument("--precisions", nargs="+", default=["float32", "mixed_bfloat16"],
                        choices=["float32", "mixed_bfloat16", "mixed_float16"])
    parser.add_argument("--jit", nargs="+", default=["off"], choices=["off", "on"])
    parser.add_argument("--adam", nargs="+", default=["fused"], choices=["fused", "keras"],
                        help="fused: FusedAdam, as training uses; keras: keras.optimizers.Adam (another "
                             "epsilon), for comparison")
    parser.add_argument("--winograd", nargs="+", default=["on"], choices=["on", "off"],
                        help="on: stride-1 3x3 / 4x4 convolutions as Winograd, as training does on CPU; "
                             "off: direct convolutions, for comparison")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds over all cases")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per case per round")
    parser.add_argument("--json", default=None, help="write the results here")
    parser.add_argument("--reference-repo", default=None,
                        help="a clone of junyanz/pytorch-CycleGAN-and-pix2pix: time its step (256x256, batch 1; "
                             "needs torch) in every round, for the 'vs ref' column")
    args = parser.parse_args()
    measured = {m: [] for m in args.models if m in REFERENCE_STEP_SECONDS} if args.reference_repo else {}
    if measured and args.size != 256:
        parser.error(f"Invalid value for argument `--size`. Received: --size={args.size}. Expected 256 with "
                     "--reference-repo (the reference's unet_256 and its figures are at 256x256).")

    device = "GPU: " + tf.config.list_physical_devices("GPU")[0].name if tf.config.list_physical_devices("GPU") \
        else f"CPU: {platform.processor() or platform.machine()} x{os.cpu_count()}"
    print(f"tensorflow {tf.__version__}, keras {keras.__version__}, {device}")

    ceilings = {"float32": matmul_flops_per_second("float32")}
    if any(p != "float32" for p in args.precisions):
        half = "bfloat16" if "mixed_bfloat16" in args.precisions else "float16"
        ceilings["mixed_bfloat16"] = ceilings["mixed_float16"] = matmul_flops_per_second(half)
    print("matmul ceiling: " + ", ".join(f"{k} {v / 1e9:.0f} GFLOP/s" for k, v in ceilings.items()))

    cases = []
    for model_name in args.models:
        for batch in args.batches:
            for precision in args.precisions:
                for jit in args.jit:
                    for adam in args.adam:
                        for winograd in args.winograd:
                            if winograd == "off" and precision != "float32":
                                continue  # the Winograd path is float32 only: "on" already times direct convolutions
                            case = Case(model_name, batch, precision, args.size, jit == "on", adam, winograd == "on")
                            case.warm_up()
                            cases.append(case)
                            print(f"built {case.name}: {case.flops / 1e9:.1f} GFLOP/step, "
                                  f"peak RSS {peak_rss_mib():.0f} MiB", flush=True)
    for round_ in range(args.rounds):
        for case in cases:
            case.run(args.steps)
            median = statistics.median(case.times[-args.steps:])
            print(f"round {round_ + 1}/{args.rounds} {case.name}: {median:.3f} s/step", flush=True)
        for model_name, times in measured.items():
            times.append(reference_step_seconds(args.reference_repo, model_name, args.steps))
            print(f"round {round_ + 1}/{args.rounds} reference {model_name} (PyTorch): {times[-1]:.3f} s/step",
                  flush=True)
    reference = {**REFERENCE_STEP_SECONDS, **{m: statistics.median(t) for m, t in measured.items()}}
    where = "measured in this run" if measured else "../shared/REFERENCE.md's AMD EPYC, not this machine"

    with tempfile.TemporaryDirectory() as tmp:
        paired_root = write_synthetic_dataset(Path(tmp) / "paired", n_train=40, n_test=2, size=args.size)
        from tfgan_translate.data import write_synthetic_unpaired_dataset

        unpaired_root = write_synthetic_unpaired_dataset(Path(tmp) / "unpaired", n_train=40, n_test=2,
                                                         size=args.size)
        pipelines = {"paired": pipeline_throughput("paired", paired_root, args.size),
                     "unpaired": pipeline_throughput("unpaired", unpaired_root, args.size)}

    rows = []
    header = (f"{'case':<40}{'step s':>9}{'vs ref':>8}{'GFLOP':>8}{'GFLOP/s':>9}{'util':>7}"
              f"{'img/s':>8}{'infer s':>9}")
    print("\n" + header + "\n" + "-" * len(header))
    for case in cases:
        step = statistics.median(case.times)
        achieved = case.flops / step
        row = {
            "case": case.name, "model": case.model_name, "batch": case.batch, "precision": case.precision,
            "step_seconds": step, "step_seconds_all": case.times,
            "speedup_vs_reference": reference.get(case.model_name, float("nan")) * case.batch
            / step,  # NaN: no reference figure for CUT
            "gflop_per_step": case.flops / 1e9, "gflops_per_second": achieved / 1e9,
            "utilisation": achieved / ceilings[case.precision],
            "images_per_second": case.batch / step, "inference_seconds": statistics.median(case.infer_times),
        }
        rows.append(row)
        print(f"{case.name:<40}{step:>9.3f}{row['speedup_vs_reference']:>7.2f}x{row['gflop_per_step']:>8.1f}"
              f"{row['gflops_per_second']:>9.1f}{row['utilisation']:>7.0%}{row['images_per_second']:>8.2f}"
              f"{row['inference_seconds']:>9.3f}")
    consumed = max(r["images_per_second"] for r in rows)
    print(f"\ninput pipeline: paired {pipelines['paired']:.0f} img/s, unpaired {pipelines['unpaired']:.0f} img/s "
          f"({pipelines['paired'] / consumed:.0f}x / {pipelines['unpaired'] / consumed:.0f}x what the fastest "
          f"training case consumes, {consumed:.2f} img/s)")
    shown = ", ".join(f"{m} {reference[m]:.3f} s" for m in args.models if m in reference)
    print(f"peak RSS {peak_rss_mib():.0f} MiB" + (f"; reference step (PyTorch, batch 1, {where}): {shown}" if shown
                                                    else ""))
    if args.json:
        result = {"device": device, "tensorflow": tf.__version__, "keras": keras.__version__,
                  "matmul_gflops": {k: v / 1e9 for k, v in ceilings.items()}, "cases": rows,
                  "pipelines_images_per_second": pipelines, "peak_rss_mib": peak_rss_mib(),
                  "reference_step_seconds": reference, "reference_measured": bool(measured)}
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
