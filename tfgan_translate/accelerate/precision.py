"""Where bfloat16 is fast: what `--precision auto` picks (`training.precision.resolve_precision` asks here).

With GPUs, bfloat16 when every visible GPU has compute capability >= 8.0. On a CPU with AVX512_BF16 or AMX,
when a probe convolution (about 0.1 s to measure, once per process) runs at least `CPU_SPEEDUP_NEEDED`
times faster in bfloat16 than in float32. The flags alone are not enough: on a 2-core Xeon with
AVX512_BF16 but no AMX the probe ran 0.63x as fast in bfloat16 and pix2pix steps 0.74x.

The policy must be set before the model is built (Keras reads it when a layer is created), so unlike the
other speed-ups this one is chosen before building, and a network keeps the policy it was built under.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path

import tensorflow as tf

# CPU flags (Linux /proc/cpuinfo) of native bfloat16 arithmetic: AVX512-BF16 (Cooper Lake, Zen 4+) and AMX.
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")
CPUINFO = Path("/proc/cpuinfo")
# bfloat16 must beat float32 by this factor on the probe to be chosen: below it, the casts a mixed
# policy adds around every layer eat the gain.
CPU_SPEEDUP_NEEDED = 1.2


def cpu_flags(cpuinfo: str | Path | None = None) -> set[str]:
    """The CPU feature flags listed in `cpuinfo` (default /proc/cpuinfo); an empty set where there is no such file."""
    try:
        text = Path(cpuinfo or CPUINFO).read_text()
    except OSError:
        return set()
    flags = set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            flags.update(value.split())
    return flags


def _gpu_capabilities() -> list[tuple[int, int]]:
    """Compute capabilities of the visible GPUs ((0, 0) where TF does not report one)."""
    capabilities = []
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        capabilities.append(tuple(details.get("compute_capability") or (0, 0)))
    return capabilities


def conv_seconds(dtype: str, repeats: int = 5) -> float:
    """Median seconds of a probe convolution (1x64x64x128, 3x3, 128 filters: 1.2 GFLOP) in `dtype`."""
    x = tf.cast(tf.random.stateless_uniform([1, 64, 64, 128], seed=[0, 0]), dtype)
    w = tf.cast(tf.random.stateless_uniform([3, 3, 128, 128], seed=[0, 1]), dtype)
    conv = tf.function(lambda x, w: tf.nn.conv2d(x, w, 1, "SAME"))
    conv(x, w).numpy()  # trace and warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        conv(x, w).numpy()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


@functools.cache
def _cpu_bfloat16_speedup() -> float:
    """float32 time / bfloat16 time of the probe convolution on this CPU (measured once per process)."""
    return conv_seconds("float32") / conv_seconds("bfloat16")


def auto_precision() -> tuple[str, str]:
    """("mixed_bfloat16" or "float32", the reason): the policy `--precision auto` resolves to here.

    Example:

    >>> auto_precision()  # doctest: +SKIP
    ('float32', "CPU has avx512_bf16; a probe convolution ran 0.63x as fast in bfloat16")
    """
    gpus = _gpu_capabilities()
    if gpus:
        if all(cc >= (8, 0) for cc in gpus):
            return "mixed_bfloat16", f"GPU compute capability {min(gpus)} >= (8, 0) runs bfloat16"
        return "float32", f"GPU compute capability {min(gpus)} < (8, 0) has no fast bfloat16"
    flags = sorted(set(BF16_CPU_FLAGS) & cpu_flags())
    if not flags:
        return "float32", f"no GPU and the CPU lacks {' / '.join(BF16_CPU_FLAGS)}"
    speedup = _cpu_bfloat16_speedup()
    verdict = "mixed_bfloat16" if speedup >= CPU_SPEEDUP_NEEDED else "float32"
    return verdict, f"CPU has {', '.join(flags)}; a probe convolution ran {speedup:.2f}x as fast in bfloat16"


__all__ = ["BF16_CPU_FLAGS", "CPU_SPEEDUP_NEEDED", "auto_precision", "conv_seconds", "cpu_flags"]
