"""Every choice list of the package, defined once.

Each is a `Literal` type (for the config dataclasses and type checkers) and, where modules check arguments
against it, the tuple of its values; the tuple is derived from the type, so the two cannot drift apart.
`check_choice` gives every module the same error for a value outside a list.

Example:

>>> DIRECTIONS
('AtoB', 'BtoA')
>>> check_choice("norm", "group", NORMS)
Traceback (most recent call last):
ValueError: Invalid value for argument `norm`. Received: norm='group'. Expected one of ['batch', 'instance', 'none'].
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Literal

Direction = Literal["AtoB", "BtoA"]  # AtoB: A (left half / A folder) -> B; BtoA swaps them
Preprocess = Literal["resize_and_crop", "crop", "scale_width", "scale_width_and_crop", "none"]
DiscriminatorName = Literal["basic", "n_layers", "pixel"]  # basic = 70x70 PatchGAN, pixel = 1x1 PixelGAN
Norm = Literal["batch", "instance", "none"]
Upsample = Literal["transpose", "resize"]
ResNetUpsample = Literal["transpose", "resize", "blur"]  # blur: CUT's anti-aliased bilinear x2 + 3x3 conv
Downsample = Literal["stride", "blur"]  # stride-2 convs, or CUT's anti-aliased stride-1 conv + blur pooling
InitType = Literal["normal", "xavier"]  # conv weights ~ N(0, gain), or PyTorch's xavier_normal_ with that gain
GanMode = Literal["vanilla", "lsgan", "wgangp"]
Objective = Literal["l1", "gan", "cgan", "l1+gan", "l1+cgan"]  # pix2pix's ablation (Isola et al., Table 1)
Strategy = Literal["auto", "none", "mirrored", "multiworker", "tpu"]
Precision = Literal["auto", "float32", "mixed_bfloat16", "mixed_float16"]
Fit = Literal["pad", "resize"]  # how inference meets a generator's size rule
TestDropout = Literal["on", "off"]  # pix2pix's dropout at test time (`InferenceMode`)
TestBatchNorm = Literal["image", "moving"]  # batch norm at test time: each image's statistics or the moving ones
Quantization = Literal["none", "float16", "int8"]  # .tflite variants

DIRECTIONS = typing.get_args(Direction)
PREPROCESS_MODES = typing.get_args(Preprocess)
DISCRIMINATORS = typing.get_args(DiscriminatorName)
NORMS = typing.get_args(Norm)
UPSAMPLES = typing.get_args(Upsample)
RESNET_UPSAMPLES = typing.get_args(ResNetUpsample)
DOWNSAMPLES = typing.get_args(Downsample)
INIT_TYPES = typing.get_args(InitType)
GAN_MODES = typing.get_args(GanMode)
STRATEGIES = typing.get_args(Strategy)
PRECISIONS = typing.get_args(Precision)
FITS = typing.get_args(Fit)
QUANTIZATIONS = typing.get_args(Quantization)


def literal_values(annotation) -> tuple | None:
    """The allowed values of a `Literal[...]` annotation, else None."""
    return typing.get_args(annotation) if typing.get_origin(annotation) is Literal else None


def check_choice(name: str, value, allowed) -> None:
    """Raises ValueError unless `value` is one of `allowed`, naming the argument and the allowed values."""
    if value not in allowed:
        raise ValueError(f"Invalid value for argument `{name}`. Received: {name}={value!r}. Expected one of "
                         f"{list(allowed)}.")


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
    check_choice("objective", objective, typing.get_args(Objective))
    terms = objective.split("+")
    return ObjectiveTerms(l1="l1" in terms, gan=any(t.endswith("gan") for t in terms), conditional="cgan" in terms)


@dataclasses.dataclass(frozen=True)
class InferenceMode:
    """How a generator runs at test time: pix2pix's dropout on or off, batch norm on which statistics.

    One setting for every path that runs a trained generator (`translate`, `evaluate`, `export` and the
    Python API, `tfgan_translate.inference_mode`), recorded per run as the config fields `test_dropout` and
    `test_batch_norm`. Networks without dropout or batch norm (CycleGAN's instance-norm ResNet) run the same
    in every mode.

    Attributes:
        dropout: "on" or "off". "on": the generator's dropout layers drop units at test time too, new noise
            on every run (pix2pix's only noise source, Isola et al. 2017, Sec. 3.1); "off": deterministic.
        batch_norm: "image" or "moving". "image": batch norm normalises each image with its own mean and
            variance (and applies the trained scale and offset); "moving": with the moving averages
            gathered in training. Moving averages are never updated at test time.

    The default, `PAPER_MODE` (dropout on, each image's statistics), is the protocol of the pix2pix paper
    (Sec. 3.3: "we apply dropout at test time, and we apply batch normalization using the statistics of the
    test batch") and of the reference's test.py, which runs the networks in training mode on batches of one
    image unless given --eval. `EVAL_MODE` (dropout off, moving statistics) is its --eval (`model.eval()`).

    Example:

    >>> InferenceMode.of(None, test_dropout="off")
    InferenceMode(dropout='off', batch_norm='image')
    >>> InferenceMode("of")
    Traceback (most recent call last):
    ValueError: Invalid value for argument `test_dropout`. Received: test_dropout='of'. Expected one of ['on', 'off'].
    """

    dropout: TestDropout = "on"
    batch_norm: TestBatchNorm = "image"

    def __post_init__(self):
        check_choice("test_dropout", self.dropout, typing.get_args(TestDropout))
        check_choice("test_batch_norm", self.batch_norm, typing.get_args(TestBatchNorm))

    @classmethod
    def of(cls, base=None, test_dropout: str | None = None, test_batch_norm: str | None = None) -> InferenceMode:
        """The mode asked for: each argument given, else what `base` says, else the default (`PAPER_MODE`).

        Args:
            base: an `InferenceMode`, a run config (its `test_dropout` and `test_batch_norm` fields) or None.
            test_dropout: "on", "off" or None (from `base`).
            test_batch_norm: "image", "moving" or None (from `base`).
        """
        if not isinstance(base, InferenceMode):
            base = cls(getattr(base, "test_dropout", cls.dropout), getattr(base, "test_batch_norm", cls.batch_norm))
        return cls(base.dropout if test_dropout is None else test_dropout,
                   base.batch_norm if test_batch_norm is None else test_batch_norm)

    def describe(self) -> str:
        """One line for logs, metadata and reports."""
        names = {PAPER_MODE: "the pix2pix paper's protocol, the reference's test.py default",
                 EVAL_MODE: "the reference's test.py --eval"}
        statistics = "each image's own statistics" if self.batch_norm == "image" else "its moving statistics"
        text = f"test-time dropout {self.dropout}, batch norm on {statistics}"
        return f"{text} ({names[self]})" if self in names else text


PAPER_MODE = InferenceMode()  # the default everywhere: the pix2pix paper's test protocol (reference test.py)
EVAL_MODE = InferenceMode("off", "moving")  # the reference's test.py --eval: model.eval()
