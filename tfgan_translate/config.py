"""Run configurations: one frozen dataclass per model, saved as JSON in every run.

The command line only parses flags into a config and hands it to
`tfgan_translate.training.run`; notebooks build the same object in Python.
A config is the single record of how a run was made: `translate`, `export`
and `--resume` read it back from `RUN_DIR/config.json`.

Example:

>>> cfg = Pix2PixConfig(data="data/facades", image_size=128, netG="unet_128")
>>> cfg.replace(epochs=5).epochs
5
>>> Pix2PixConfig.from_json(cfg.to_json()) == cfg
True
"""

from __future__ import annotations

import dataclasses
import json
import re
import typing
from pathlib import Path
from typing import Literal

CONFIG_FILENAME = "config.json"

Direction = Literal["AtoB", "BtoA"]
Preprocess = Literal["resize_and_crop", "crop", "scale_width", "scale_width_and_crop", "none"]
DiscriminatorName = Literal["basic", "n_layers", "pixel"]
Norm = Literal["batch", "instance", "none"]
Upsample = Literal["transpose", "resize"]
GanMode = Literal["vanilla", "lsgan", "wgangp"]
Objective = Literal["l1", "gan", "cgan", "l1+gan", "l1+cgan"]
Strategy = Literal["auto", "none", "mirrored", "multiworker", "tpu"]
Precision = Literal["auto", "float32", "mixed_bfloat16", "mixed_float16"]


def _choices(field_type) -> tuple | None:
    """The allowed values of a `Literal[...]` annotation, else None."""
    if typing.get_origin(field_type) is Literal:
        return typing.get_args(field_type)
    return None


@dataclasses.dataclass(frozen=True)
class _Config:
    """Shared behaviour: validation, JSON round trip, `replace`."""

    def __post_init__(self):
        hints = typing.get_type_hints(type(self))
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            allowed = _choices(hints[field.name])
            if allowed is not None and value not in allowed:
                raise ValueError(
                    f"Invalid value for `{field.name}`. Received: {field.name}={value!r}. "
                    f"Expected one of {list(allowed)}."
                )
        self._validate()

    def _validate(self) -> None:
        """Cross-field checks of a concrete config; overridden by subclasses."""

    def replace(self, **changes):
        """A copy with `changes` applied (and validated)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return {"model": self.model, **dataclasses.asdict(self)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, values: dict):
        values = dict(values)
        model = values.pop("model", cls.model)
        if model != cls.model:
            raise ValueError(f"This config is for model {model!r}, not {cls.model!r}.")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"Unknown {cls.__name__} fields: {unknown}. Known fields: {sorted(known)}.")
        return cls(**values)

    @classmethod
    def from_json(cls, text: str):
        return cls.from_dict(json.loads(text))

    def save(self, run_dir: str | Path) -> Path:
        """Writes `run_dir/config.json` atomically and returns its path."""
        path = Path(run_dir) / CONFIG_FILENAME
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(self.to_json() + "\n")
        tmp.replace(path)
        return path


_GENERATOR_PATTERN = re.compile(r"^(unet_(?P<size>\d+)|resnet_(?P<blocks>\d+)blocks)$")


def parse_generator_name(netG: str) -> tuple[str, int]:
    """Splits a generator name into (family, size): ("unet", depth) or ("resnet", n_blocks).

    Names follow the reference: unet_256 (8 downsamplings), unet_128 (7), and
    any unet_<2**depth> with depth >= 2; resnet_9blocks, resnet_6blocks and any
    resnet_<n>blocks.

    >>> parse_generator_name("unet_256"), parse_generator_name("resnet_6blocks")
    (('unet', 8), ('resnet', 6))
    """
    match = _GENERATOR_PATTERN.match(str(netG))
    if match is not None and match["size"] is not None:
        size = int(match["size"])
        if size >= 4 and size & (size - 1) == 0:
            return "unet", size.bit_length() - 1
    elif match is not None and int(match["blocks"]) >= 1:
        return "resnet", int(match["blocks"])
    raise ValueError(
        f"Invalid value for `netG`. Received: netG={netG!r}. Expected unet_256, unet_128 or any "
        "unet_<2**depth> (e.g. unet_64), or resnet_9blocks, resnet_6blocks or any resnet_<n>blocks."
    )


def _positive(cfg, *names):
    for name in names:
        value = getattr(cfg, name)
        if value is None or value <= 0:
            raise ValueError(f"Invalid value for `{name}`. Received: {name}={value!r}. Expected a positive number.")


@dataclasses.dataclass(frozen=True)
class _TrainingConfig(_Config):
    """Fields both models share: data, networks, adversarial loss, optimisation.

    Defaults here are pix2pix's; `CycleGANConfig` overrides the ones that differ.
    """

    # --- data ---
    data: str = ""  # dataset folder, "synth" (built-in data) or, for CycleGAN, "tfds:cycle_gan/NAME"
    direction: Direction = "AtoB"  # AtoB: translate A (left half / A folder) into B; BtoA swaps them
    image_size: int = 256  # training crop, square (the papers' 256)
    load_size: int = 286  # resize before the random crop (resize_and_crop)
    preprocess: Preprocess = "resize_and_crop"  # the reference's jitter modes
    flip: bool = True  # random horizontal flip
    input_channels: int = 3  # channels of the input domain (1 grayscale, 3 RGB, 4 RGBA)
    output_channels: int = 3  # channels of the output domain
    skip_bad_files: bool = False  # skip (and count) unreadable files instead of failing

    # --- networks ---
    netG: str = "unet_256"  # unet_<2**depth> (unet_256, unet_128, unet_64, ...) or resnet_<n>blocks
    netD: DiscriminatorName = "basic"  # basic = 70x70 PatchGAN; n_layers uses n_layers_D; pixel = 1x1
    n_layers_D: int = 3  # PatchGAN depth for netD="n_layers": 1 -> 16x16, 3 -> 70x70, 5 -> 286x286
    ngf: int = 64  # generator filters in the first/last conv layer
    ndf: int = 64  # discriminator filters in the first conv layer
    norm: Norm = "batch"  # batch (pix2pix) | instance (no affine; CycleGAN) | none
    dropout: float = 0.5  # generator dropout, kept on at test time (pix2pix's only noise source)
    upsample: Upsample = "transpose"  # transposed conv (papers) or resize-conv (no checkerboard)
    init_gain: float = 0.02  # weights ~ N(0, init_gain)

    # --- adversarial loss ---
    gan_mode: GanMode = "vanilla"  # vanilla (BCE), lsgan (MSE), wgangp
    lambda_gp: float = 10.0  # gradient-penalty weight for gan_mode="wgangp"

    # --- optimisation (reference: 100 epochs at lr, then 100 decaying linearly to 0) ---
    epochs: int = 200  # total epochs, constant phase + decay phase
    n_epochs_decay: int | None = None  # final epochs of linear decay to 0; None: half of `epochs`
    steps_per_epoch: int | None = None  # None: one pass over the training set
    batch_size: int = 1
    lr: float = 2e-4  # Adam learning rate of every optimizer
    beta_1: float = 0.5
    beta_2: float = 0.999
    seed: int = 0  # initialisation, data order and jitter

    lr_decay_per_step: bool = False  # decay the rate every step instead of once per epoch (reference)

    # --- hardware ---
    strategy: Strategy = "auto"  # tf.distribute: auto picks TPU / several GPUs / one device
    precision: Precision = "auto"  # auto: mixed_bfloat16 where the GPU/CPU runs it fast (measured), else float32
    jit: bool = False  # XLA compilation (3-5x slower on CPU; try it on GPU)
    sync_batch_norm: bool = False  # batch-norm statistics over all replicas
    winograd: bool = True  # stride-1 3x3 / 4x4 convs as Winograd on CPU (ResNet blocks, PatchGAN): faster, more memory

    # --- bookkeeping ---
    validation_steps: int | None = None  # None: the whole test/val split
    sample_count: int = 4  # rows in each preview grid
    log_every: int = 10  # steps between per-step TensorBoard scalars
    sample_every: int | None = None  # steps between TensorBoard preview grids (None: epoch ends only)
    checkpoint_every: int | None = None  # steps between extra checkpoints (epoch ends always save)
    keep_checkpoints: int = 3  # epoch/step checkpoints kept besides latest.keras

    @property
    def decay_epochs(self) -> int:
        """Epochs of linear learning-rate decay at the end of training."""
        return self.epochs // 2 if self.n_epochs_decay is None else self.n_epochs_decay

    @property
    def constant_epochs(self) -> int:
        """Epochs at the initial learning rate (the reference's `n_epochs`)."""
        return self.epochs - self.decay_epochs

    def _validate(self) -> None:
        parse_generator_name(self.netG)
        _positive(self, "image_size", "load_size", "input_channels", "output_channels", "ngf", "ndf",
                  "epochs", "batch_size", "lr", "n_layers_D", "sample_count", "log_every", "keep_checkpoints")
        if self.n_epochs_decay is not None and not 0 <= self.n_epochs_decay <= self.epochs:
            raise ValueError(
                f"Invalid value for `n_epochs_decay`. Received: n_epochs_decay={self.n_epochs_decay}. "
                f"Expected 0 <= n_epochs_decay <= epochs ({self.epochs})."
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"Invalid value for `dropout`. Received: dropout={self.dropout}. Expected 0 <= dropout < 1.")
        for name in ("steps_per_epoch", "validation_steps", "sample_every", "checkpoint_every"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(
                    f"Invalid value for `{name}`. Received: {name}={value}. Expected a positive integer or None."
                )
        if self.preprocess in ("resize_and_crop", "scale_width_and_crop") and self.load_size < self.image_size:
            raise ValueError(
                f"Invalid value for `load_size`. Received: load_size={self.load_size}. "
                f"Expected load_size >= image_size ({self.image_size}) for preprocess={self.preprocess!r}."
            )


@dataclasses.dataclass(frozen=True)
class Pix2PixConfig(_TrainingConfig):
    """Everything that defines a pix2pix run (Isola et al. 2017).

    Defaults are those of the reference implementation's pix2pix model:
    unet_256, 70x70 PatchGAN, batch norm, dropout 0.5, vanilla GAN,
    lambda_L1 = 100, Adam(2e-4, 0.5), batch 1, resize 286 -> crop 256,
    100 + 100 epochs.
    """

    model = "pix2pix"  # class attribute, not a field: names the model in JSON

    # --- objective (paper Sec. 3.1, ablation Table 1) ---
    objective: Objective = "l1+cgan"  # which terms G minimises
    lambda_l1: float = 100.0  # weight of ||y - G(x)||_1

    @property
    def conditional(self) -> bool:
        """Whether D sees the input x too (cGAN) or only the image (GAN)."""
        return self.objective.endswith("cgan")

    @property
    def uses_gan(self) -> bool:
        return self.objective != "l1"

    @property
    def uses_l1(self) -> bool:
        return self.objective.startswith("l1")


@dataclasses.dataclass(frozen=True)
class CycleGANConfig(_TrainingConfig):
    """Everything that defines a CycleGAN run (Zhu et al. 2017).

    Defaults are the reference implementation's CycleGAN: resnet_9blocks,
    70x70 PatchGAN, instance norm, no dropout, LSGAN, lambda_cycle = 10,
    lambda_identity = 0.5, an image pool of 50, Adam(2e-4, 0.5), batch 1,
    100 + 100 epochs. Domain A is the input of G (A -> B), B the input of F.
    """

    model = "cyclegan"

    netG: str = "resnet_9blocks"  # resnet_9blocks at 256, resnet_6blocks at 128
    norm: Norm = "instance"
    dropout: float = 0.0
    gan_mode: GanMode = "lsgan"

    # --- objective (paper Sec. 3, Eq. 3 and Sec. 5.2 identity loss) ---
    lambda_cycle: float = 10.0  # weight of ||F(G(a)) - a||_1 and ||G(F(b)) - b||_1
    lambda_identity: float = 0.5  # identity weight as a fraction of lambda_cycle (0 disables it)
    pool_size: int = 50  # generated images kept per discriminator (0: no pool)

    def _validate(self) -> None:
        super()._validate()
        for name in ("lambda_cycle", "lambda_identity", "pool_size"):
            if getattr(self, name) < 0:
                raise ValueError(
                    f"Invalid value for `{name}`. Received: {name}={getattr(self, name)}. Expected a value >= 0."
                )
        if self.lambda_identity > 0 and self.input_channels != self.output_channels:
            raise ValueError(
                f"Invalid value for `lambda_identity`. Received: lambda_identity={self.lambda_identity} with "
                f"input_channels={self.input_channels} != output_channels={self.output_channels}. The identity "
                "loss feeds B images to G (A -> B); set lambda_identity=0 for domains with different channels."
            )


CONFIG_CLASSES = {cls.model: cls for cls in (Pix2PixConfig, CycleGANConfig)}

# Fields a resumed run may change: how long it trains, where and how it runs, what it logs.
RESUMABLE_CHANGES = frozenset({
    "epochs", "validation_steps", "sample_count", "log_every", "sample_every", "checkpoint_every",
    "keep_checkpoints", "strategy", "precision", "jit", "winograd",
})


def check_resumable(saved, requested) -> None:
    """Raises ValueError if `requested` changes a field of `saved` that a resumed run must keep."""
    if type(saved) is not type(requested):
        raise ValueError(f"Cannot resume a {saved.model} run as {requested.model}.")
    changed = [f.name for f in dataclasses.fields(saved)
               if f.name not in RESUMABLE_CHANGES and getattr(saved, f.name) != getattr(requested, f.name)]
    if changed:
        details = ", ".join(f"{n}: {getattr(saved, n)!r} -> {getattr(requested, n)!r}" for n in changed)
        raise ValueError(
            f"Cannot resume with a different configuration ({details}). A resumed run may only change "
            f"{sorted(RESUMABLE_CHANGES)}; start a new run folder for other changes."
        )


def load_config(run_dir: str | Path):
    """Reads `run_dir/config.json` into the config class of the model it names."""
    path = Path(run_dir) / CONFIG_FILENAME
    if not path.is_file():
        raise FileNotFoundError(f"No run config at {path}: is {run_dir} a tfgan-translate run folder?")
    values = json.loads(path.read_text())
    model = values.get("model")
    if model not in CONFIG_CLASSES:
        raise ValueError(f"{path}: unknown model {model!r}; expected one of {sorted(CONFIG_CLASSES)}.")
    return CONFIG_CLASSES[model].from_dict(values)
