"""Numeric precision and XLA compilation: `--precision` and `--jit`.

Mixed precision runs the convolutions in bfloat16 or float16 while the
weights stay float32. The networks end in float32 layers (the generators'
tanh, the discriminators' logits) and every loss is computed in float32, so
the outputs, the losses and the logged metrics are float32 whatever the
policy. float16 needs loss scaling against gradient underflow:
`wrap_optimizer` wraps the optimizers in `keras.optimizers.LossScaleOptimizer`,
which `TranslationGAN._update` drives through `optimizer.scale_loss`.

The policy is global and read when a layer is created: call
`set_precision` BEFORE building the model (and `reset_precision` or
`precision_scope` to undo it).

Example:

>>> name = set_precision("auto")  # "mixed_bfloat16" where it is fast (Ampere+ GPU, AMX CPU), else "float32"
>>> model = pix2pix_from_config(config)
>>> model.compile(g_optimizer=wrap_optimizer(keras.optimizers.Adam(2e-4), name),
...               d_optimizer=wrap_optimizer(keras.optimizers.Adam(2e-4), name),
...               jit_compile=resolve_jit("auto"))
"""

from __future__ import annotations

import contextlib
import logging

import keras
import tensorflow as tf

from tfgan_translate.accelerate.precision import auto_precision

log = logging.getLogger("tfgan_translate")

PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")


def resolve_precision(name: str = "auto") -> tuple[str, str]:
    """Resolves a `--precision` value to a Keras policy name, with the reason.

    "auto" is "mixed_bfloat16" where bfloat16 runs fast, else "float32": the
    probe in `tfgan_translate.accelerate.precision` (`auto_precision`)
    decides. float16 is never chosen automatically (it needs loss scaling).

    Args:
        name: str. One of `PRECISIONS`. Defaults to "auto".

    Returns:
        (policy name, reason), e.g. ("mixed_bfloat16", "CPU has avx512_bf16").

    Raises:
        ValueError: for a name not in `PRECISIONS`.
    """
    if not isinstance(name, str) or name not in PRECISIONS:
        raise ValueError(f"Invalid value for argument `precision`. Received: precision={name!r}. "
                         f"Expected one of {list(PRECISIONS)}.")
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


def reset_precision() -> None:
    """Restores the float32 global policy."""
    keras.mixed_precision.set_global_policy("float32")


@contextlib.contextmanager
def precision_scope(name: str = "auto"):
    """Sets the global policy for a block and restores the previous one afterwards.

    Example:

    >>> with precision_scope("mixed_bfloat16") as policy:
    ...     g = UNetGenerator(depth=5, ngf=8)  # bfloat16 compute, float32 output
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
    if flag is True or flag is False:
        return flag
    if flag != "auto":
        raise ValueError(f"Invalid value for argument `jit`. Received: jit={flag!r}. Expected True, False or 'auto'.")
    gpus = len(tf.config.list_physical_devices("GPU"))
    log.info("jit auto -> %s (%d GPU(s); XLA is slower than plain TF on CPU)", gpus > 0, gpus)
    return gpus > 0


__all__ = ["PRECISIONS", "precision_scope", "reset_precision", "resolve_jit", "resolve_precision", "set_precision",
           "wrap_optimizer"]
