"""Every choice list of the package, defined once.

Each is a `Literal` type (for the config dataclasses and type checkers) and the tuple of its values (for
argument checks and the command line's `choices=`); the tuple is derived from the type, so the two cannot
drift apart. `check_choice` gives every module the same error for a value outside a list.

Example:

>>> DIRECTIONS
('AtoB', 'BtoA')
>>> check_choice("norm", "group", NORMS)
Traceback (most recent call last):
ValueError: Invalid value for argument `norm`. Received: norm='group'. Expected one of ['batch', 'instance', 'none'].
"""

from __future__ import annotations

import typing
from typing import Literal

Direction = Literal["AtoB", "BtoA"]  # AtoB: A (left half / A folder) -> B; BtoA swaps them
Preprocess = Literal["resize_and_crop", "crop", "scale_width", "scale_width_and_crop", "none"]
DiscriminatorName = Literal["basic", "n_layers", "pixel"]  # basic = 70x70 PatchGAN, pixel = 1x1 PixelGAN
Norm = Literal["batch", "instance", "none"]
Upsample = Literal["transpose", "resize"]
GanMode = Literal["vanilla", "lsgan", "wgangp"]
Objective = Literal["l1", "gan", "cgan", "l1+gan", "l1+cgan"]  # pix2pix's ablation (Isola et al., Table 1)
Strategy = Literal["auto", "none", "mirrored", "multiworker", "tpu"]
Precision = Literal["auto", "float32", "mixed_bfloat16", "mixed_float16"]
Fit = Literal["pad", "resize"]  # how inference meets a generator's size rule
NoisePolicy = Literal["off", "on"]  # test-time dropout of an export
Quantization = Literal["none", "float16", "int8"]  # .tflite variants

DIRECTIONS = typing.get_args(Direction)
PREPROCESS_MODES = typing.get_args(Preprocess)
DISCRIMINATORS = typing.get_args(DiscriminatorName)
NORMS = typing.get_args(Norm)
UPSAMPLES = typing.get_args(Upsample)
GAN_MODES = typing.get_args(GanMode)
OBJECTIVES = typing.get_args(Objective)
STRATEGIES = typing.get_args(Strategy)
PRECISIONS = typing.get_args(Precision)
FITS = typing.get_args(Fit)
NOISE_POLICIES = typing.get_args(NoisePolicy)
QUANTIZATIONS = typing.get_args(Quantization)


def literal_values(annotation) -> tuple | None:
    """The allowed values of a `Literal[...]` annotation, else None."""
    if typing.get_origin(annotation) is Literal:
        return typing.get_args(annotation)
    return None


def check_choice(name: str, value, allowed) -> None:
    """Raises ValueError unless `value` is one of `allowed`, naming the argument and the allowed values."""
    if value not in allowed:
        raise ValueError(
            f"Invalid value for argument `{name}`. Received: {name}={value!r}. Expected one of {list(allowed)}."
        )


def other_direction(direction: str) -> str:
    """"BtoA" for "AtoB" and the reverse."""
    check_choice("direction", direction, DIRECTIONS)
    return "BtoA" if direction == "AtoB" else "AtoB"


class ObjectiveTerms(typing.NamedTuple):
    """What a pix2pix objective trains: the L1 term, an adversarial term, and whether D sees the input."""

    l1: bool
    gan: bool
    conditional: bool


def objective_terms(objective: str) -> ObjectiveTerms:
    """Parses a pix2pix objective into its terms; the one place that reads the names.

    Example:

    >>> objective_terms("l1+cgan")
    ObjectiveTerms(l1=True, gan=True, conditional=True)
    >>> objective_terms("gan")
    ObjectiveTerms(l1=False, gan=True, conditional=False)
    """
    check_choice("objective", objective, OBJECTIVES)
    terms = objective.split("+")
    return ObjectiveTerms(l1="l1" in terms, gan=any(t.endswith("gan") for t in terms), conditional="cgan" in terms)
