"""Configurations: one frozen dataclass per model, saved as JSON in every run, and one per subcommand.

The command line only parses flags into a config and hands it to `tfgan_translate.training.run`; notebooks
build the same object in Python. A config is the single record of how a run was made: `translate`, `export`
and `--resume` read it back from `RUN_DIR/config.json`.

Each field is declared once, with `option(default, help, ...)`: its type (the choice lists are the `Literal`
types of `choices.py`), its default, its help text and its valid range, checked on construction. The
command line's flags are generated from these fields (`--` + the name with `_` as `-`, unless `flag=` says
otherwise): `train`'s from `Pix2PixConfig` / `CycleGANConfig` and `TrainOptions`, the other subcommands'
from `TranslateOptions`, `ExportOptions`, `EvaluateOptions`, `SynthOptions` and `DemoOptions`. A new field
is a new flag, and its checks apply to notebooks and flags alike.

Example:

>>> cfg = Pix2PixConfig(data="data/facades", image_size=128, netG="unet_128")
>>> cfg.replace(epochs=5).epochs
5
>>> Pix2PixConfig.from_json(cfg.to_json()) == cfg
True
>>> Pix2PixConfig(lr=float("nan"))
Traceback (most recent call last):
ValueError: Invalid value for `lr`. Received: lr=nan. Expected a finite number > 0.
"""

# ruff: noqa: RUF009  (`option(...)` and `_override(...)` return a `dataclasses.field`, as a default must)
from __future__ import annotations

import dataclasses
import json
import math
import numbers
import re
import types
import typing
from pathlib import Path

from tfgan_translate import io
from tfgan_translate.choices import (  # the Literal types (callers may import them from here too)
    Direction,
    DiscriminatorName,
    Fit,
    GanMode,
    NoisePolicy,
    Norm,
    Objective,
    Precision,
    Preprocess,
    Quantization,
    Strategy,
    Upsample,
    check_choice,
    literal_values,
    objective_terms,
)

CONFIG_FILENAME = "config.json"


def option(default, help: str, *, flag: str | None = None, metavar: str | None = None, switch: bool = False,
           group: str | None = None, positional: bool = False, required: bool = False, cli: bool = True,
           gt: float | None = None, ge: float | None = None, lt: float | None = None):
    """A field with its help text, its command-line flag and its valid range, declared once.

    The command line derives the rest from the field's type: a `Literal` gives the flag's choices, `bool`
    a `--flag true|false` value (or no value with `switch=True`), `int | None` an integer or "none", and
    `tuple[Literal[...], ...]` a comma-separated, repeatable list.

    Args:
        default: the field's default value.
        help: str. One line for `--help` (and for the reader of the class). "(default: ...)" is appended
            unless the text already speaks of the default or the flag is required.
        flag: str or None. The flag's name when it is not `--` + the field's name with `_` as `-`
            (e.g. "--beta1" for `beta_1`). Defaults to None.
        metavar: str or None. The value's name in `--help` (default: the field's name in capitals).
        switch: bool. A flag that takes no value and sets True (`--jit`). Defaults to False.
        group: str or None. Fields of the same group are mutually exclusive and one is required
            (`--checkpoint` or `--model`). Defaults to None.
        positional: bool. A positional argument instead of a flag. Defaults to False.
        required: bool. The command line needs the flag (`train`: unless it resumes a run). Defaults to False.
        cli: bool. False for fields the command line does not expose. Defaults to True.
        gt, ge, lt: float or None. A number must be finite and `> gt`, `>= ge`, `< lt` (None, for an
            `int | None` field, is always allowed). Defaults to None: any finite number.

    Returns:
        A `dataclasses.field` whose metadata holds these settings.

    Example:

    >>> lr = Pix2PixConfig.__dataclass_fields__["lr"]  # declared as option(2e-4, "Adam learning rate", gt=0)
    >>> lr.default, lr.metadata["help"], lr.metadata["bounds"]
    (0.0002, 'Adam learning rate', {'gt': 0})
    """
    bounds = {key: value for key, value in (("gt", gt), ("ge", ge), ("lt", lt)) if value is not None}
    metadata = dict(help=help, flag=flag, metavar=metavar, switch=switch, group=group, positional=positional,
                    required=required, cli=cli, bounds=bounds)
    return dataclasses.field(default=default, metadata=metadata)


def flag_name(field: dataclasses.Field) -> str:
    """A field's command-line flag: its `flag=`, else `--` + the name with `_` as `-` (`n_layers_D`: `--n-layers-D`)."""
    return field.metadata.get("flag") or "--" + field.name.replace("_", "-")


def _override(base, name: str, default):
    """The field `name` of config class `base` (help, flag, range) with another default, for a subclass."""
    return dataclasses.field(default=default, metadata=base.__dataclass_fields__[name].metadata)


_BOUND_SIGNS = (("gt", ">"), ("ge", ">="), ("lt", "<"))


def _check_range(name: str, value, bounds: dict, *, integer: bool, optional: bool) -> None:
    """Raises ValueError unless `value` is a finite number within `bounds`."""
    number = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if number and value > bounds.get("gt", -math.inf) and value >= bounds.get("ge", -math.inf) \
            and value < bounds.get("lt", math.inf):
        return
    limits = " and ".join(f"{sign} {bounds[key]:g}" for key, sign in _BOUND_SIGNS if key in bounds)
    expected = " ".join(filter(None, ["an integer" if integer else "a finite number", limits]))
    raise ValueError(f"Invalid value for `{name}`. Received: {name}={value!r}. "
                     f"Expected {expected}{' or None' if optional else ''}.")


def unwrap_optional(annotation) -> tuple[typing.Any, bool]:
    """(the annotation without None, whether None is allowed): `int | None` -> (int, True)."""
    members = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(members) == 2 and type(None) in members:
        return next(arg for arg in members if arg is not type(None)), True
    return annotation, False


def optional_int(text: str) -> int | None:
    """An `int | None` field's text: an integer, or "none"/"auto" for None (a literal 0 is 0)."""
    return None if text.lower() in ("none", "auto") else int(text)


def boolean(text: str) -> bool:
    """A `bool` field's text: true/false, yes/no, on/off or 1/0."""
    if text.lower() not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        raise ValueError(f"expected true/false, got {text!r}")
    return text.lower() in ("1", "true", "yes", "on")


def names(text: str) -> list[str]:
    """A `tuple[Literal[...], ...]` field's text: one name or a comma-separated list (checked by the class)."""
    return [name.strip() for name in text.split(",") if name.strip()]


def text_parser(annotation):
    """How a field of type `annotation` is read from text (the command line): a callable str -> value.

    Example:

    >>> text_parser(int | None)("0"), text_parser(int | None)("none"), text_parser(bool)("false")
    (0, None, False)
    """
    annotation, optional = unwrap_optional(annotation)
    if literal_values(annotation) is not None:
        return type(literal_values(annotation)[0])
    if typing.get_origin(annotation) is tuple:
        return names
    return {bool: boolean, int: optional_int if optional else int}.get(annotation, annotation)


def _check_field(name: str, value, annotation, bounds: dict) -> None:
    """Checks one value against its field's type: a Literal's choices, a number's range."""
    annotation, optional = unwrap_optional(annotation)
    if value is None and optional:
        return
    allowed = literal_values(annotation)
    if allowed is not None:
        check_choice(name, value, allowed)
    elif typing.get_origin(annotation) is tuple and literal_values(typing.get_args(annotation)[0]) is not None:
        for item in value:
            check_choice(name, item, literal_values(typing.get_args(annotation)[0]))
    elif annotation in (int, float):
        _check_range(name, value, bounds, integer=annotation is int, optional=optional)


@dataclasses.dataclass(frozen=True)
class Options:
    """Base of the dataclasses of `option` fields: validation on construction, and `replace`.

    Construction checks each field's choices and range, then `_validate` (cross-field checks). The run
    configs build on it, and so does each subcommand's options class, wherever it is declared
    (`cli.COMMANDS` takes any).
    """

    def __post_init__(self):
        hints = typing.get_type_hints(type(self))
        for field in dataclasses.fields(self):
            _check_field(field.name, getattr(self, field.name), hints[field.name], field.metadata.get("bounds", {}))
        self._validate()

    def _validate(self) -> None:
        """Cross-field checks of a concrete class; overridden by subclasses."""

    def replace(self, **changes):
        """A copy with `changes` applied (and validated)."""
        return dataclasses.replace(self, **changes)


@dataclasses.dataclass(frozen=True)
class _Config(Options):
    """A run's configuration: the JSON round trip and the run folder's config.json."""

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
        return io.write_text(Path(run_dir) / CONFIG_FILENAME, self.to_json() + "\n")


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


@dataclasses.dataclass(frozen=True)
class _TrainingConfig(_Config):
    """Fields both models share: data, networks, adversarial loss, optimisation.

    Defaults here are pix2pix's; `CycleGANConfig` overrides the ones that differ.
    """

    # --- data ---
    data: str = option("", "dataset folder, 'synth' (built-in data) or, for CycleGAN, 'tfds:cycle_gan/NAME'",
                       required=True)
    direction: Direction = option("AtoB", "translate A into B, or B into A")  # A: left half / A folder
    image_size: int = option(256, "training crop size", gt=0)  # square (the papers' 256)
    load_size: int = option(286, "resize before the random crop", gt=0)  # for resize_and_crop
    preprocess: Preprocess = option("resize_and_crop", "jitter mode")  # the reference's modes
    flip: bool = option(True, "random horizontal flip (true/false)")
    input_channels: int = option(3, "channels of the input images", gt=0)  # 1 grayscale, 3 RGB, 4 RGBA
    output_channels: int = option(3, "channels of the output images", gt=0)
    skip_bad_files: bool = option(False, "skip and count unreadable images instead of failing", switch=True)

    # --- networks ---
    netG: str = option("unet_256", "unet_256 | unet_128 | unet_<2**depth> | resnet_9blocks | resnet_6blocks")
    netD: DiscriminatorName = option("basic", "basic = 70x70 PatchGAN; pixel = 1x1")  # n_layers: n_layers_D
    n_layers_D: int = option(3, "PatchGAN depth for --netD n_layers (1: 16x16, 3: 70x70, 5: 286x286)", gt=0)
    ngf: int = option(64, "generator filters in the first conv", gt=0)  # and in the last
    ndf: int = option(64, "discriminator filters in the first conv", gt=0)
    norm: Norm = option("batch", "normalisation layers")  # batch (pix2pix) | instance (no affine; CycleGAN)
    dropout: float = option(0.5, "U-Net decoder dropout (kept on at test time)", ge=0, lt=1)  # pix2pix's noise
    upsample: Upsample = option("transpose", "transposed conv or resize-conv")  # resize: no checkerboard
    init_gain: float = option(0.02, "initial weights ~ N(0, init_gain)", cli=False, ge=0)

    # --- adversarial loss ---
    gan_mode: GanMode = option("vanilla", "adversarial loss")  # vanilla (BCE), lsgan (MSE), wgangp
    lambda_gp: float = option(10.0, "gradient-penalty weight for --gan-mode wgangp", ge=0)

    # --- optimisation (reference: 100 epochs at lr, then 100 decaying linearly to 0) ---
    epochs: int = option(200, "epochs in total", gt=0)  # constant phase + decay phase
    n_epochs_decay: int | None = option(None, "final epochs with linear lr decay to 0 (none: half of --epochs)",
                                        ge=0)
    steps_per_epoch: int | None = option(None, "steps per epoch (none: one pass)", gt=0)
    batch_size: int = option(1, "batch size", gt=0)
    lr: float = option(2e-4, "Adam learning rate", gt=0)  # of every optimizer
    beta_1: float = option(0.5, "Adam beta_1", flag="--beta1", ge=0, lt=1)
    beta_2: float = option(0.999, "Adam beta_2", cli=False, ge=0, lt=1)
    seed: int = option(0, "random seed (weights, data order, jitter)")
    lr_decay_per_step: bool = option(False, "decay the lr every step, not every epoch")  # the reference: per epoch

    # --- hardware ---
    strategy: Strategy = option("auto", "tf.distribute strategy (multiworker reads TF_CONFIG)")  # auto: TPU, GPUs
    precision: Precision = option("auto", "compute precision; auto picks bfloat16 where the hardware runs it fast")
    jit: bool = option(False, "XLA-compile the train step (slow on CPU)", switch=True)  # try it on GPU
    sync_batch_norm: bool = option(False, "batch-norm statistics across replicas", switch=True)
    winograd: bool = option(True, "stride-1 3x3 / 4x4 convs as Winograd on CPU (true/false; false saves memory)")

    # --- bookkeeping ---
    validation_steps: int | None = option(None, "validation batches (none: all)", gt=0)  # of the test/val split
    sample_count: int = option(4, "rows in each preview grid", cli=False, gt=0)
    log_every: int = option(10, "steps between per-step TensorBoard scalars", gt=0)
    sample_every: int | None = option(None, "steps between TensorBoard preview grids", gt=0)  # None: epoch ends
    checkpoint_every: int | None = option(None, "steps between extra checkpoints (epoch ends always save)", gt=0)
    keep_checkpoints: int = option(3, "epoch/step checkpoints kept besides latest", gt=0)  # latest.keras

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
        if self.n_epochs_decay is not None and self.n_epochs_decay > self.epochs:
            raise ValueError(
                f"Invalid value for `n_epochs_decay`. Received: n_epochs_decay={self.n_epochs_decay}. "
                f"Expected 0 <= n_epochs_decay <= epochs ({self.epochs})."
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

    model = "pix2pix"  # class attributes, not fields: the model's name in JSON, its `train` subcommand's texts
    cli_help = "pix2pix training"
    cli_description = "Train pix2pix (cGAN + L1, Isola et al. 2017) on paired images."

    data: str = option("", "aligned A|B folder (train/ and test/ or val/ inside, or images directly), a folder "
                           "with A/ and B/, or 'synth' for the built-in data", required=True)

    # --- objective (paper Sec. 3.1, ablation Table 1) ---
    objective: Objective = option("l1+cgan", "loss terms (the paper's ablation)")  # which terms G minimises
    lambda_l1: float = option(100.0, "weight of the L1 term", ge=0)  # weight of ||y - G(x)||_1

    @property
    def conditional(self) -> bool:
        """Whether D sees the input x too (cGAN) or only the image (GAN)."""
        return objective_terms(self.objective).conditional

    @property
    def uses_gan(self) -> bool:
        """Whether G has an adversarial term (every objective but "l1")."""
        return objective_terms(self.objective).gan

    @property
    def uses_l1(self) -> bool:
        """Whether G has the L1 term."""
        return objective_terms(self.objective).l1


@dataclasses.dataclass(frozen=True)
class CycleGANConfig(_TrainingConfig):
    """Everything that defines a CycleGAN run (Zhu et al. 2017).

    Defaults are the reference implementation's CycleGAN: resnet_9blocks,
    70x70 PatchGAN, instance norm, no dropout, LSGAN, lambda_cycle = 10,
    lambda_identity = 0.5, an image pool of 50, Adam(2e-4, 0.5), batch 1,
    100 + 100 epochs. Domain A is the input of G (A -> B), B the input of F.
    """

    model = "cyclegan"
    cli_help = "CycleGAN training"
    cli_description = "Train CycleGAN (Zhu et al. 2017) on unpaired images of two domains."

    data: str = option("", "CycleGAN folder (trainA/ trainB/ testA/ testB/), an aligned A|B folder used unpaired, "
                           "'tfds:cycle_gan/NAME', or 'synth' / 'synth:palette' for the built-in unpaired data",
                       required=True)
    netG: str = _override(_TrainingConfig, "netG", "resnet_9blocks")  # resnet_9blocks at 256, resnet_6blocks at 128
    norm: Norm = _override(_TrainingConfig, "norm", "instance")
    dropout: float = _override(_TrainingConfig, "dropout", 0.0)
    gan_mode: GanMode = _override(_TrainingConfig, "gan_mode", "lsgan")

    # --- objective (paper Sec. 3, Eq. 3 and Sec. 5.2 identity loss) ---
    lambda_cycle: float = option(10.0, "cycle-consistency weight", ge=0)  # of ||F(G(a)) - a||_1, ||G(F(b)) - b||_1
    lambda_identity: float = option(0.5, "identity weight relative to --lambda-cycle (0: off)", ge=0)
    pool_size: int = option(50, "generated images kept per discriminator (0: no pool)", ge=0)

    def _validate(self) -> None:
        super()._validate()
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


def requested_config(config_cls, changes: dict, *, run_dir: str | Path | None = None, resume: bool = False,
                     n_epochs: int | None = None):
    """The config a `train` request describes: defaults (or, resuming, the run's saved config) with `changes`.

    Args:
        config_cls: `Pix2PixConfig` or `CycleGANConfig`.
        changes: dict. The fields given (e.g. by flags); the others keep their default or saved value.
        run_dir: str, Path or None. The run folder; with `resume`, its config.json is the base when present.
        resume: bool. Start from the saved config of `run_dir`. Defaults to False.
        n_epochs: int or None. The reference's way to give the length: `n_epochs` at the initial rate,
            then `changes["n_epochs_decay"]` (default: as many) decaying; instead of `epochs`.

    Returns:
        A config of class `config_cls`.

    Raises:
        ValueError: a required field (`data`) is missing without a run to resume, the saved run is of
            another model, both `epochs` and `n_epochs` are given, or a value is invalid.

    Example:

    >>> requested_config(Pix2PixConfig, {"data": "synth", "n_epochs_decay": 0}, n_epochs=1).epochs
    1
    """
    changes = dict(changes)
    base = None
    if resume and run_dir is not None and (Path(run_dir) / CONFIG_FILENAME).is_file():
        base = load_config(run_dir)
        if not isinstance(base, config_cls):
            raise ValueError(f"--resume: {run_dir} holds a {base.model} run, not {config_cls.model}.")
    else:
        missing = [flag_name(f) for f in dataclasses.fields(config_cls)
                   if f.metadata.get("required") and not changes.get(f.name)]
        if missing:
            raise ValueError(f"the following argument is required: {', '.join(missing)} "
                             "(unless --resume finds a run in --out)")
    if n_epochs is not None:
        if changes.get("epochs") is not None:
            raise ValueError("Pass either --epochs (total) or --n-epochs (constant phase), not both.")
        decay = n_epochs if changes.get("n_epochs_decay") is None else changes["n_epochs_decay"]
        changes.update(epochs=n_epochs + decay, n_epochs_decay=decay)
    return base.replace(**changes) if base is not None else config_cls(**changes)


# ------------------------------------------------------------------ the other subcommands' options
# Declared like the configs (one `option` per flag); `cli.py` builds each subcommand's parser from its
# class, and `cli_help` / `cli_description` are the subcommand's texts.


@dataclasses.dataclass(frozen=True)
class TrainOptions(Options):
    """`tfgan-translate train MODEL`'s flags besides the model's config: where the run goes, resuming."""

    out: str = option("", "run folder (config, checkpoints, logs, samples)", required=True)
    resume: bool = option(False, "continue the run in --out from its latest checkpoint (weights, optimizers, lr "
                                 "schedule, pools, data position); only flags given here change its saved config",
                          switch=True)
    n_epochs: int | None = option(None, "epochs at the initial learning rate (the reference's n_epochs); total = "
                                        "n_epochs + n_epochs_decay, with n_epochs_decay defaulting to n_epochs; "
                                        "instead of --epochs", ge=0)


@dataclasses.dataclass(frozen=True)
class TranslateOptions(Options):
    """`tfgan-translate translate`: a run's generator, or an export, over an image or a folder."""

    cli_help = "translate images with a trained run"
    cli_description = "Translate an image or a folder; writes OUTPUT/<stem>.png at the input's size."

    checkpoint: str | None = option(None, "run folder written by `train`", group="source")
    model: str | None = option(
        None, "an export written by `export`: a .tflite file, or the export (or saved_model/) folder; its "
              "metadata.json gives channels and size rule. A fixed-size .tflite pads images that fit inside its "
              "size (--fit pad) and resizes the others", group="source", metavar="PATH.tflite|SAVED_MODEL_DIR")
    input: str = option("", "an image file or a folder of images", required=True)
    output: str = option("", "output folder", required=True)
    fit: Fit = option("pad", "meet the generator's size rule by reflect-padding (and cropping back) or by resizing")
    direction: Direction | None = option(None, "AtoB or BtoA, named after the data folders; default: the run's "
                                               "training direction (a CycleGAN run translates both ways: G one way, "
                                               "F the other)")
    aligned: bool = option(False, "inputs are A|B pairs: translate the half the run's direction takes as input",
                           switch=True)


@dataclasses.dataclass(frozen=True)
class ExportOptions(Options):
    """`tfgan-translate export`: a run's generator as SavedModel and TFLite files."""

    cli_help = "export a trained generator as SavedModel and TFLite"
    cli_description = ("Write OUT/saved_model/ (signatures serving_default and translate_image), "
                       "OUT/generator_<float32|float16|int8>.tflite (builtin ops only) and OUT/metadata.json, "
                       "replacing OUT atomically. Without --saved-model or --tflite, both are written.")

    run: str = option("", "run folder (config.json + checkpoints/) or a .keras file", positional=True,
                      metavar="RUN_OR_CHECKPOINT")
    out: str | None = option(None, "export folder (default: exports/<run-name>/)")
    direction: Direction | None = option(None, "which way to translate, named after the data folders (default: "
                                               "the run's; the other way needs a CycleGAN)")
    saved_model: bool = option(False, "write the SavedModel", switch=True)
    tflite: bool = option(False, "write .tflite files", switch=True)
    quantize: tuple[Quantization, ...] = option(
        ("none",), "which .tflite files: none (float32), float16, int8 (full integer, float I/O); repeat or "
                   "comma-separate for several", metavar="none|float16|int8")
    representative_data: str | None = option(None, "folder of input images for int8 calibration and the parity "
                                                   "check (default: the run's training data)", metavar="DIR")
    representative_count: int = option(32, "calibration images at most", gt=0)
    noise: NoisePolicy = option("off", "test-time dropout: off = deterministic; on = pix2pix's noise kept at "
                                       "inference")
    image_size: int | None = option(None, "fixed .tflite input size (default: the run's training size)", gt=0)
    dynamic_size: bool = option(False, "convert the .tflite with a dynamic height and width instead of a fixed "
                                       "size", switch=True)
    keep_transpose_conv: bool = option(False, "keep TRANSPOSE_CONV ops in the .tflite instead of the equivalent, "
                                              "faster sub-pixel convolutions (CONV_2D + DEPTH_TO_SPACE)", switch=True)


@dataclasses.dataclass(frozen=True)
class EvaluateOptions(Options):
    """`tfgan-translate evaluate`: folders of translations and truths, or a run (or export) on a test split."""

    cli_help = "measure translations against ground truth (L1, PSNR, SSIM, sharpness, KID, FID)"
    cli_description = (
        "Paired metrics per image and on average: L1 (pixels in [-1, 1]), PSNR (dB, capped at 100), SSIM, "
        "sharpness (high-frequency energy of pred / truth: ~1 realistic, <1 blurred); KID and FID from "
        "Inception-v3 features on request. Files are matched by name without extension; a prediction of another "
        "size is resized (bicubic) to its truth's size. With --checkpoint or --model, the --split of --data is "
        "translated first (the run's direction).")

    pred: str | None = option(None, "folder of translated images (with --truth)", group="source", metavar="DIR")
    checkpoint: str | None = option(None, "run folder: translate --data's split first", group="source",
                                    metavar="RUN_DIR")
    model: str | None = option(None, "an export: translate --data's split first", group="source",
                               metavar="PATH.tflite|SAVED_MODEL_DIR")
    truth: str | None = option(None, "folder of ground-truth images (with --pred)", metavar="DIR")
    data: str | None = option(None, "paired data set (aligned A|B or A/ + B/) for --checkpoint/--model",
                              metavar="DIR")
    split: str = option("test", "split of --data to translate; test falls back to val")
    size: int | None = option(None, "resize inputs and truths of --data to SIZE x SIZE first (e.g. the training "
                                    "size); default: the files' size", gt=0)
    fit: Fit = option("pad", "meet the generator's size rule by reflect-padding or resizing, as translate")
    channels: typing.Literal[1, 3, 4] = option(3, "channels --pred and --truth are read with")
    json: str | None = option(None, "write the per-image and mean figures as JSON", metavar="OUT")
    report: str | None = option(None, "write DIR/report.md, DIR/metrics.json and DIR/samples.png ([input |] pred | "
                                      "truth); with --checkpoint/--model also the translations (DIR/input, "
                                      "DIR/pred, DIR/truth)", metavar="DIR")
    grid_rows: int = option(8, "rows in the report's sample grid", ge=0)
    kid: bool = option(False, "KID (Inception-v3 features)", switch=True)
    fid: bool = option(False, "FID (Inception-v3 features)", switch=True)
    feature_weights: str = option("imagenet", "Inception-v3 weights for KID/FID: 'imagenet' (Keras cache or "
                                              "download) or a local .h5 file (include_top=False) for offline "
                                              "machines", metavar="PATH")
    kid_subsets: int = option(100, "KID subsets", gt=0)
    kid_subset_size: int = option(1000, "images per KID subset at most", gt=1)

    def _validate(self) -> None:
        source = "--pred" if self.pred else "--checkpoint" if self.checkpoint else "--model"
        if self.pred and (not self.truth or self.data):
            raise ValueError("--pred DIR needs --truth DIR (the ground truth, matched by file name) and no --data.")
        if not self.pred and (not self.data or self.truth):
            raise ValueError(f"{source} needs --data DIR (a paired data set whose --split is translated and "
                             "evaluated) and no --truth.")


@dataclasses.dataclass(frozen=True)
class SynthOptions(Options):
    """`tfgan-translate datasets synth`: the built-in synthetic facades, written as files."""

    cli_help = "the built-in synthetic facades (label map | photo)"
    cli_description = None

    out: str = option("", "output folder (train/ and test/ are written inside)", required=True)
    n_train: int = option(200, "training pairs", gt=0)
    n_test: int = option(20, "test pairs", gt=0)
    size: int = option(256, "height of each half; files are size x 2*size", gt=0)
    seed: int = option(0, "random seed")


@dataclasses.dataclass(frozen=True)
class DemoOptions(Options):
    """`tfgan-translate demo`: built-in data -> a short pix2pix run -> translations."""

    cli_help = "the main job: synthetic data -> pix2pix -> translations"
    cli_description = ("Generate the built-in data, train pix2pix for a few minutes on CPU, and translate the "
                       "held-out label maps.")

    out: str = option("runs/demo", "folder for data, run and translations")
    epochs: int = option(30, "epochs to train", gt=0)
    n_train: int = option(200, "training pairs", gt=0)

    def run_config(self, data: str | Path) -> Pix2PixConfig:
        """The demo's pix2pix run on `data` (the built-in set at 64 px): a small U-Net, batch 4, a higher rate."""
        # float32: at 64 px and ngf 32 the bfloat16 casts cost more than they save, even where bfloat16 is
        # fast for full-size networks (1.19x slower per step on an AVX512_BF16 CPU).
        return Pix2PixConfig(data=str(data), image_size=64, load_size=72, netG="unet_64", ngf=32, ndf=32,
                             epochs=self.epochs, batch_size=4, lr=5e-4, sample_count=6, seed=0, precision="float32")
