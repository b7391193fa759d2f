"""Time and peak memory of `translate` on one large image, tiled in bounded memory (tfgan_translate.tiling).

For each generator, a size x size test image (smooth colour fields, a textured half) is written as a PNG, then
a fresh Python process builds the generator (random weights: the cost does not depend on them), translates
the file with `inference.translate_files` (its defaults: tiles sized to `--memory-budget`, or `--tile`) and
reports its wall time and its peak resident memory (`VmHWM` of /proc/self/status: the whole process,
TensorFlow and the weights included). The parent prints one row per generator, or JSON with `--json`.

    python benchmarks/tiling_bench.py                                   # unet_256 and resnet_9blocks, 4096 px
    python benchmarks/tiling_bench.py --netG resnet_9blocks --ngf 8 --size 2048 --json

The test suite (tests/test_tiling.py) runs the `--child` process with a reduced --ngf and checks the peak.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GIB = 2**30


def write_test_image(path: Path, size: int, seed: int = 0) -> Path:
    """A size x size RGB PNG: bicubic colour fields (a bright smooth top half, a striped bottom half)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    cells = rng.integers(0, 255, (size // 128 + 2, size // 128 + 2, 3), dtype=np.uint8)
    image = np.asarray(Image.fromarray(cells).resize((size, size), Image.BICUBIC), np.uint8).copy()
    image[: size // 2] = image[: size // 2] // 2 + 100
    stripes = (40 * np.sin(np.arange(size) / 3.0)).astype(np.int16)
    bottom = image[size // 2:].astype(np.int16) + stripes[None, :, None]
    image[size // 2:] = np.clip(bottom, 0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(path)
    return path


def _peak_rss_bytes(resource) -> int:
    """This process's peak resident memory since it started.

    Linux's `getrusage(RUSAGE_SELF).ru_maxrss` of a forked-then-exec'd child starts from the parent's RSS at the
    fork (a 3 GB pytest process made every child report 3 GB), so read the high-water mark of this process's own
    address space (`VmHWM`, which exec resets) where /proc has it.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux


def child(args) -> dict:
    """Builds the generator, translates `args.input` into `args.output`, returns the figures (this process)."""
    import resource

    import keras

    from tfgan_translate.inference import translate_files
    from tfgan_translate.networks import build_generator
    from tfgan_translate.tiling_plan import MIB, activation_bytes, plan_tile

    keras.utils.set_random_seed(0)
    generator = build_generator(args.netG, ngf=args.ngf)
    size = args.size
    budget = args.memory_budget
    start = time.perf_counter()
    written = translate_files(generator, args.input, args.output, tile=args.tile, overlap=args.overlap,
                              memory_budget=budget)
    seconds = time.perf_counter() - start
    peak = _peak_rss_bytes(resource)
    untiled = activation_bytes(generator, size, size)
    return {"netG": args.netG, "ngf": args.ngf, "size": size, "params": generator.count_params(),
            "tile": args.tile or plan_tile(generator, size, size, generator.size_multiple, int(budget * MIB),
                                           args.overlap),
            "overlap": args.overlap, "memory_budget_mib": budget, "seconds": round(seconds, 1),
            "peak_rss_gib": round(peak / GIB, 3), "untiled_estimate_gib": round(untiled / GIB, 2),
            "output": str(written[0])}


def measure(netG: str, ngf: int, size: int, work: Path, tile=None, overlap=None, memory_budget=256.0,
            timeout: float = 3600) -> dict:
    """Runs `child` in a fresh process (so its peak memory is translate's alone) and returns its figures."""
    image = work / f"input_{size}.png"
    if not image.exists():
        write_test_image(image, size)
    command = [sys.executable, __file__, "--child", "--netG", netG, "--ngf", str(ngf), "--size", str(size),
               "--input", str(image), "--output", str(work / f"out_{netG}_{ngf}"),
               "--memory-budget", str(memory_budget)]
    command += ["--tile", str(tile)] if tile else []
    command += ["--overlap", str(overlap)] if overlap is not None else []
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{netG}: the measuring process failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--netG", action="append", help="generator name (repeatable; default: unet_256 and "
                                                        "resnet_9blocks)")
    parser.add_argument("--ngf", type=int, default=64)
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--tile", type=int, default=None)
    parser.add_argument("--overlap", type=int, default=None)
    parser.add_argument("--memory-budget", type=float, default=256.0,
                        help="MiB one pass may use (translate's default, tiling_plan.DEFAULT_MEMORY_BUDGET_MB: 256)")
    parser.add_argument("--work", type=Path, default=None, help="folder for the image and outputs (default: temp)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        args.netG = args.netG[0]
        print(json.dumps(child(args)))
        return 0
    with tempfile.TemporaryDirectory(prefix="tiling-bench-") as scratch:
        work = args.work or Path(scratch)
        rows = [measure(name, args.ngf, args.size, work, args.tile, args.overlap, args.memory_budget)
                for name in args.netG or ["unet_256", "resnet_9blocks"]]
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    print(f"{'netG':16} {'ngf':>4} {'size':>6} {'tile':>6} {'time s':>8} {'peak RSS GiB':>13} {'untiled est. GiB':>17}")
    for row in rows:
        print(f"{row['netG']:16} {row['ngf']:>4} {row['size']:>6} {row['tile'] or '-':>6} {row['seconds']:>8} "
              f"{row['peak_rss_gib']:>13} {row['untiled_estimate_gib']:>17}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
