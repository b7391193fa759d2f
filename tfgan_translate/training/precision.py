"""Numeric precision and XLA compilation: `--precision` and `--jit`.

Mixed precision runs the convolutions in bfloat16 or float16 while the
weights stay float32. The networks end in float32 layers (the generators'
tanh, the discriminators' logits) and every loss is computed in float32, so
the outputs, the losses and the logged metrics are float32 whatever the
policy. float16 needs loss scaling against gradient underflow:
`wrap_optimizer` wraps the optimizers in `keras.optimizers.LossScaleOptimizer`,
which `TranslationGAN._update` drives through `optimizer.scale_loss`.

The policy is global and read when a layer is created: call
`set_precision` BEFORE building the model (or build inside `precision_scope`,
which restores the previous policy afterwards).

"auto" is bfloat16 where it is fast (`auto_precision`): with GPUs, when every visible GPU has compute
capability >= 8.0; on a CPU with AVX512_BF16 or AMX, when a probe convolution (about 0.1 s to measure,
once per process) runs at least `CPU_SPEEDUP_NEEDED` times faster in bfloat16 than in float32. The flags
alone are not enough: on a 2-core Xeon with AVX512_BF16 but no AMX the probe ran 0.63x as fast in bfloat16
and pix2pix steps 0.74x. A network keeps the policy it was built under.

Example (`set_precision("auto")` gives "mixed_bfloat16" where it is fast, on an Ampere+ GPU or an AMX CPU, else
"float32"; not run as a doctest: it sets the process's policy):

>>> name = set_precision("auto")  # doctest: +SKIP
>>> model = pix2pix_from_config(config)  # doctest: +SKIP
>>> model.compile(g_optimizer=wrap_optimizer(keras.optimizers.Adam(2e-4), name),
...               d_optimizer=wrap_optimizer(keras.optimizers.Adam(2e-4), name),
...               jit_compile=resolve_jit("auto"))  # doctest: +SKIP
"""

import contextlib
import functools
import logging
import re
import statistics
import timeit
from pathlib import Path

import keras
import tensorflow as tf

from tfgan_translate.choices import PRECISIONS, check_choice

log = logging.getLogger("tfgan_translate")


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
    lines = re.findall(r"^(?:flags|Features)\s*:(.*)$", text, flags=re.MULTILINE)  # x86 / ARM
    return {flag for line in lines for flag in line.split()}


def _gpu_capabilities() -> list[tuple[int, int]]:
    """Compute capabilities of the visible GPUs ((0, 0) where TF does not report one)."""
    return [tuple(tf.config.experimental.get_device_details(gpu).get("compute_capability") or (0, 0))
            for gpu in tf.config.list_physical_devices("GPU")]


@functools.cache
def _cpu_bfloat16_speedup() -> float:
    """float32 time / bfloat16 time of a probe convolution on this CPU (measured once per process).

    The probe: 1x64x64x128 input, 3x3 kernel, 128 filters (1.2 GFLOP); its median time of 5 runs after a warm-up.
    """
    def seconds(dtype):
        x = tf.cast(tf.random.stateless_uniform([1, 64, 64, 128], seed=[0, 0]), dtype)
        w = tf.cast(tf.random.stateless_uniform([3, 3, 128, 128], seed=[0, 1]), dtype)
        conv = tf.function(lambda x, w: tf.nn.conv2d(x, w, 1, "SAME"))
        conv(x, w).numpy()  # trace and warm up
        return statistics.median(timeit.repeat(lambda: conv(x, w).numpy(), repeat=5, number=1))

    return seconds("float32") / seconds("bfloat16")


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


def resolve_precision(name: str = "auto") -> tuple[str, str]:
    """Resolves a `--precision` value to a Keras policy name, with the reason.

    "auto" is "mixed_bfloat16" where bfloat16 runs fast, else "float32":
    `auto_precision` decides. float16 is never chosen automatically (it needs loss scaling).

    Args:
        name: str. One of `PRECISIONS`. Defaults to "auto".

    Returns:
        (policy name, reason), e.g. ("mixed_bfloat16", "CPU has avx512_bf16").

    Raises:
        ValueError: for a name not in `PRECISIONS`.
    """
    check_choice("precision", name, PRECISIONS)
    return (name, "requested") if name != "auto" else auto_precision()


def set_precision(name: str = "auto") -> str:
    """Sets Keras' global dtype policy from a `--precision` value and returns the policy name.

    Call it before building the model: layers take the policy current when
    they are created. The choice and its reason are logged at INFO level.

    Args:
        name: str. One of `PRECISIONS`; see `resolve_precision` for "auto".
            Defaults to "auto".

    Returns:
        The policy set: "float32", "mixed_bfloat16" or "mixed_float16".

    Example:

    >>> set_precision("float32")
    'float32'
    """
    resolved, reason = resolve_precision(name)
    keras.mixed_precision.set_global_policy(resolved)
    log.info("precision %s -> %s (%s)", name, resolved, reason)
    return resolved


@contextlib.contextmanager
def precision_scope(name: str = "auto"):
    """Sets the global policy for a block and restores the previous one afterwards.

    Example:

    >>> from tfgan_translate.networks import UNetGenerator
    >>> with precision_scope("mixed_bfloat16") as policy:
    ...     g = UNetGenerator(depth=5, ngf=8)  # bfloat16 compute, float32 output
    >>> policy, g.compute_dtype, keras.mixed_precision.global_policy().name
    ('mixed_bfloat16', 'bfloat16', 'float32')
    """
    previous = keras.mixed_precision.global_policy()
    try:
        yield set_precision(name)
    finally:
        keras.mixed_precision.set_global_policy(previous)


def wrap_optimizer(optimizer: keras.optimizers.Optimizer, precision: str | None = None):
    """Wraps `optimizer` in a `LossScaleOptimizer` for float16; returns it unchanged otherwise.

    Args:
        optimizer: keras.optimizers.Optimizer.
        precision: str or None. A policy name or `PRECISIONS` value ("auto"
            is resolved); None uses the current global policy. Defaults to None.

    Returns:
        `keras.optimizers.LossScaleOptimizer(optimizer)` for "mixed_float16"
        (dynamic loss scale), else `optimizer` (also when already wrapped).
    """
    # None: the global policy; else checked, and "auto" resolved
    precision = keras.mixed_precision.global_policy().name if precision is None else resolve_precision(precision)[0]
    if precision == "mixed_float16" and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def resolve_jit(flag: bool | str = "auto") -> bool:
    """Resolves `--jit` to the `jit_compile` value for `model.compile`.

    XLA made the train steps 3-5x slower on CPU, so "auto" is on only where
    a GPU is visible.

    Args:
        flag: True, False or "auto". Defaults to "auto".

    Returns:
        bool.

    Example:

    >>> resolve_jit(False)
    False
    """
    if isinstance(flag, bool):
        return flag
    if flag != "auto":
        raise ValueError(f"Invalid value for argument `jit`. Received: jit={flag!r}. Expected True, False or 'auto'.")
    gpus = len(tf.config.list_physical_devices("GPU"))
    log.info("jit auto -> %s (%d GPU(s); XLA is slower than plain TF on CPU)", gpus > 0, gpus)
    return gpus > 0


__all__ = ["BF16_CPU_FLAGS", "CPU_SPEEDUP_NEEDED", "PRECISIONS", "auto_precision", "cpu_flags", "precision_scope",
           "resolve_jit", "resolve_precision", "set_precision", "wrap_optimizer"]
