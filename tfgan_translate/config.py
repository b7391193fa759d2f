"""The run configurations: one frozen dataclass per model, saved as JSON in every run folder.

`train`'s flags are parsed into a config (`requested_config`) and handed to `tfgan_translate.training.run`;
notebooks build the same object in Python. A config is the single record of how a run was made:
`translate`, `export` and `--resume` read it back from `RUN_DIR/config.json` (`load_config`), and a resumed
run may change only `RESUMABLE_CHANGES` (`check_resumable`).

Each field is declared once, with `option(default, help, ...)` (`options.py`): its type (the choice lists
are the `Literal` types of `choices.py`), its default, its help text and its valid range, checked on
construction. `train`'s flags are generated from these fields (the other subcommands' from
`app/command_options.py`): a new field is a new flag, and its checks apply to notebooks and flags alike.

Example:

>>> cfg = Pix2PixConfig(data="data/facades", image_size=128, netG="unet_128")
>>> cfg.replace(epochs=5).epochs
5
>>> Pix2PixConfig.from_dict(cfg.to_dict()) == cfg
True
>>> Pix2PixConfig(lr=float("nan"))
Traceback (most recent call last):
ValueError: Invalid value for `lr`. Received: lr=nan. Expected a finite number > 0.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Literal

from tfgan_translate import io
from tfgan_translate.choices import (
    PAPER_MODE,
    Direction,
    DiscriminatorName,
    Downsample,
    GanMode,
    InitType,
    Norm,
    Objective,
    ObjectiveTerms,
    Precision,
    Preprocess,
    ResNetUpsample,
    Strategy,
    TestBatchNorm,
    TestDropout,
    Upsample,
    objective_terms,
)
from tfgan_translate.lazy import lazy_exports
from tfgan_translate.options import Options, option, override

# The run configs and their run folder; importable from here too, on first use: reading a run's config back and
# what a resumed run may change (`config_io.py`, which imports the classes below). The option machinery is in
# `options.py`, the Literal types in `choices.py`.
_CONFIG_IO_NAMES = ("RESUMABLE_CHANGES", "check_resumable", "load_config", "requested_config")
__getattr__, __dir__ = lazy_exports(__name__, dict.fromkeys(_CONFIG_IO_NAMES, "tfgan_translate.config_io"))

CONFIG_FILENAME = "config.json"


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
    raise ValueError(f"Invalid value for `netG`. Received: netG={netG!r}. Expected unet_256, unet_128 or any "
                     "unet_<2**depth> (e.g. unet_64), or resnet_9blocks, resnet_6blocks or any resnet_<n>blocks.")


@dataclasses.dataclass(frozen=True)
class _TrainingConfig(Options):
    """Fields both models share (data, networks, adversarial loss, optimisation), and a run's JSON object
    (`to_dict`, `from_dict`) and run folder's config.json (`save`).

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
    dropout: float = option(0.5, "U-Net decoder dropout (at test time: --test-dropout)", ge=0, lt=1)  # pix2pix's noise
    upsample: Upsample = option("transpose", "transposed conv or resize-conv")  # resize: no checkerboard
    init_gain: float = option(0.02, "initial weights ~ N(0, init_gain)", cli=False, ge=0)

    # --- adversarial loss ---
    gan_mode: GanMode = option("vanilla", "adversarial loss")  # vanilla (BCE), lsgan (MSE), wgangp
    lambda_gp: float = option(10.0, "gradient-penalty weight for --gan-mode wgangp", ge=0)

    # --- optimisation (reference: 100 epochs at lr, then 100 decaying linearly to 0) ---
    epochs: int = option(200, "epochs in total", gt=0)  # constant phase + decay phase
    n_epochs_decay: int | None = option(None, "final epochs with linear lr decay to 0 (none: half of --epochs)", ge=0)
    steps_per_epoch: int | None = option(None, "steps per epoch (none: one pass)", gt=0)
    batch_size: int = option(1, "batch size", gt=0)
    lr: float = option(2e-4, "Adam learning rate", gt=0)  # of every optimizer
    beta_1: float = option(0.5, "Adam beta_1", flag="--beta1", ge=0, lt=1)
    beta_2: float = option(0.999, "Adam beta_2", cli=False, ge=0, lt=1)
    adam_epsilon: float = option(1e-8, "Adam epsilon, added to sqrt(v_hat) as torch.optim.Adam adds it",
                                 gt=0)  # the reference's; a run saved without this field resumes with it
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

    # --- test time (`choices.InferenceMode`): what translate, evaluate and export do unless told otherwise ---
    test_dropout: TestDropout = option(PAPER_MODE.dropout, "dropout when translate, evaluate and export run this "
                                       "run: on (the pix2pix paper, the reference's test.py) or off "
                                       "(deterministic, its --eval)")  # a run saved without it: on
    test_batch_norm: TestBatchNorm = option(PAPER_MODE.batch_norm, "batch norm when translate, evaluate and export "
                                            "run this run: each image's own statistics (the paper, the reference's "
                                            "test.py) or the moving ones from training (its --eval)")

    @property
    def decay_epochs(self) -> int:
        """Epochs of linear learning-rate decay at the end of training."""
        return self.epochs // 2 if self.n_epochs_decay is None else self.n_epochs_decay

    @property
    def constant_epochs(self) -> int:
        """Epochs at the initial learning rate (the reference's `n_epochs`)."""
        return self.epochs - self.decay_epochs

    @classmethod
    def default_decay(cls, changes: dict, n_epochs: int) -> int:
        """The decay epochs of a run given the reference's way (`--n-epochs N`) without `n_epochs_decay`:
        as many as N, the reference's default for pix2pix and CycleGAN (100 + 100)."""
        return n_epochs

    def to_dict(self) -> dict:
        return {"model": self.model, **dataclasses.asdict(self)}

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

    def save(self, run_dir: str | Path) -> Path:
        """Writes `run_dir/config.json` (indented JSON, sorted keys) atomically and returns its path."""
        return io.write_json(Path(run_dir) / CONFIG_FILENAME, self.to_dict(), sort_keys=True)

    def _validate(self) -> None:
        parse_generator_name(self.netG)
        if self.n_epochs_decay is not None and self.n_epochs_decay > self.epochs:
            raise ValueError(f"Invalid value for `n_epochs_decay`. Received: n_epochs_decay={self.n_epochs_decay}. "
                             f"Expected 0 <= n_epochs_decay <= epochs ({self.epochs}).")
        if self.preprocess in ("resize_and_crop", "scale_width_and_crop") and self.load_size < self.image_size:
            raise ValueError(f"Invalid value for `load_size`. Received: load_size={self.load_size}. Expected "
                             f"load_size >= image_size ({self.image_size}) for preprocess={self.preprocess!r}.")
        # The PixelGAN takes any size, and pix2pix's objective "l1" trains no D.
        depth = {"basic": 3, "n_layers": self.n_layers_D}.get(self.netD)
        if depth is not None and getattr(self, "objective", None) != "l1" and self.image_size < 3 * 2**depth:
            # Each of the `depth` stride-2 convolutions halves the map, the two 4x4 stride-1 ones take 2 off.
            raise ValueError(f"Invalid value for `n_layers_D`. Received: n_layers_D={depth} (netD={self.netD!r}) with "
                             f"image_size={self.image_size}. Expected image_size >= {3 * 2**depth} for that PatchGAN "
                             f"to give one logit, or n_layers_D <= {max(1, (self.image_size // 3).bit_length() - 1)}.")


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
    def terms(self) -> ObjectiveTerms:
        """What the objective trains: `.l1` (the L1 term), `.gan` (an adversarial term: every objective but
        "l1") and `.conditional` (D sees the input x too: cGAN)."""
        return objective_terms(self.objective)


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
    netG: str = override(_TrainingConfig, "netG", "resnet_9blocks")  # resnet_9blocks at 256, resnet_6blocks at 128
    norm: Norm = override(_TrainingConfig, "norm", "instance")
    dropout: float = override(_TrainingConfig, "dropout", 0.0)
    gan_mode: GanMode = override(_TrainingConfig, "gan_mode", "lsgan")

    # --- objective (paper Sec. 3, Eq. 3 and Sec. 5.2 identity loss) ---
    lambda_cycle: float = option(10.0, "cycle-consistency weight", ge=0)  # of ||F(G(a)) - a||_1, ||G(F(b)) - b||_1
    lambda_identity: float = option(0.5, "identity weight relative to --lambda-cycle (0: off)", ge=0)
    pool_size: int = option(50, "generated images kept per discriminator (0: no pool)", ge=0)

    def _validate(self) -> None:
        super()._validate()
        if self.lambda_identity > 0 and self.input_channels != self.output_channels:
            raise ValueError(f"Invalid value for `lambda_identity`. Received: lambda_identity={self.lambda_identity} "
                             f"with input_channels={self.input_channels} != output_channels={self.output_channels}. "
                             "The identity loss feeds B images to G (A -> B); set lambda_identity=0 for domains with "
                             "different channels.")


CUTMode = Literal["cut", "fastcut"]  # the authors' --CUT_mode

# CUT's two presets (the authors' --CUT_mode, cut_model.py): the values a CUTConfig field left None takes, and
# the length: n_epochs + n_epochs_decay (200 + 200 for CUT, 150 + 50 for FastCUT).
CUT_PRESETS = {
    "cut": dict(lambda_nce=1.0, nce_idt=True, flip_equivariance=False, epochs=400, n_epochs_decay=200),
    "fastcut": dict(lambda_nce=10.0, nce_idt=False, flip_equivariance=True, epochs=200, n_epochs_decay=50),
}


@dataclasses.dataclass(frozen=True)
class CUTConfig(_TrainingConfig):
    """Everything that defines a CUT or FastCUT run (Park et al. 2020).

    Defaults are the authors' (their base and train options and `--CUT_mode`): resnet_9blocks with
    anti-aliased (blur) down- and upsampling, 70x70 PatchGAN with blur downsampling, instance norm, no
    dropout, xavier init with gain 0.02, LSGAN, Adam(2e-4, 0.5, 0.999), batch 1, resize 286 -> crop 256,
    PatchNCE on layers 0, 4, 8, 12, 16 with 256 patches per layer and temperature 0.07, no image pool.
    `mode` chooses the preset of the fields left None (`CUT_PRESETS`): "cut" has lambda_nce 1 with the
    identity term, 200 + 200 epochs; "fastcut" lambda_nce 10, no identity term, flip equivariance,
    150 + 50 epochs. A field given keeps its value; the config holds the resolved values. Domain A is the
    input of G (A -> B).
    """

    model = "cut"
    cli_help = "CUT / FastCUT training"
    cli_description = ("Train CUT or FastCUT (contrastive unpaired translation, Park et al. 2020) on unpaired images "
                       "of two domains: `train cut` (with the identity NCE term) or `train fastcut` (faster, "
                       "flip-equivariant).")

    data: str = option("", "CycleGAN-style folder (trainA/ trainB/ testA/ testB/), an aligned A|B folder used "
                           "unpaired, 'tfds:cycle_gan/NAME', or 'synth' / 'synth:palette' for the built-in unpaired "
                           "data", required=True)
    mode: CUTMode = option("cut", "preset: cut or fastcut", cli=False)  # the subcommand's name: train cut|fastcut
    netG: str = option("resnet_9blocks", "resnet_9blocks | resnet_6blocks | resnet_<n>blocks (CUT taps its encoder)")
    norm: Norm = override(_TrainingConfig, "norm", "instance")
    dropout: float = override(_TrainingConfig, "dropout", 0.0)
    gan_mode: GanMode = override(_TrainingConfig, "gan_mode", "lsgan")
    upsample: ResNetUpsample = option("blur", "generator upsampling: blur (anti-aliased, the authors'), transpose "
                                      "or resize")
    downsample: Downsample = option("blur", "down-sampling of G and D: blur (anti-aliased, the authors') or stride")
    init: InitType = option("xavier", "initial weights: xavier (the authors', gain --init-gain) or normal",
                            cli=False)
    epochs: int | None = option(None, "epochs in total (none: the mode's, 400 for cut, 200 for fastcut)", gt=0)
    n_epochs_decay: int | None = option(None, "final epochs with linear lr decay to 0 (none: the mode's share, "
                                        "200 of 400 for cut, 50 of 200 for fastcut)", ge=0)

    # --- objective (paper Eq. 5) ---
    lambda_gan: float = option(1.0, "weight of the adversarial term", ge=0)
    lambda_nce: float | None = option(None, "weight of the PatchNCE terms (none: the mode's, 1 for cut, 10 "
                                      "for fastcut)", ge=0)
    nce_idt: bool | None = option(None, "add the identity term NCE(G(b), b) (true/false; none: the mode's, "
                                  "true for cut)")
    flip_equivariance: bool | None = option(None, "flip the input left-right half the time, the query features "
                                            "back (true/false; none: the mode's, true for fastcut)")
    nce_layers: tuple[int, ...] = option((0, 4, 8, 12, 16), "generator layers PatchNCE taps (the authors' "
                                         "nn.Sequential indices), comma-separated", metavar="I,J,...")
    num_patches: int = option(256, "locations sampled per layer", gt=0)
    nce_temperature: float = option(0.07, "PatchNCE temperature tau", flag="--nce-T", gt=0)
    projection_units: int = option(256, "width of the projection MLPs (the authors' --netF_nc)", gt=0)

    def __post_init__(self):
        for name, value in CUT_PRESETS.get(self.mode, {}).items():
            if name != "n_epochs_decay" and getattr(self, name) is None:
                object.__setattr__(self, name, value)  # frozen: the resolved value, before the checks
        if isinstance(self.nce_layers, list):
            object.__setattr__(self, "nce_layers", tuple(self.nce_layers))  # from JSON or flags: one type
        super().__post_init__()

    @property
    def decay_epochs(self) -> int:
        """`n_epochs_decay`, or the mode's share of `epochs`: 200 of 400 (CUT), 50 of 200 (FastCUT)."""
        if self.n_epochs_decay is not None:
            return self.n_epochs_decay
        preset = CUT_PRESETS[self.mode]
        return self.epochs * preset["n_epochs_decay"] // preset["epochs"]

    @classmethod
    def default_decay(cls, changes: dict, n_epochs: int) -> int:
        """The authors' `--n_epochs_decay` default of the mode in `changes`: 200 (CUT), 50 (FastCUT)."""
        return CUT_PRESETS.get(changes.get("mode", "cut"), CUT_PRESETS["cut"])["n_epochs_decay"]

    def _validate(self) -> None:
        super()._validate()
        if parse_generator_name(self.netG)[0] != "resnet":
            raise ValueError(f"Invalid value for `netG`. Received: netG={self.netG!r}. Expected resnet_<n>blocks "
                             "(e.g. resnet_9blocks): CUT taps the ResNet generator's encoder.")
        if any(isinstance(i, bool) or not isinstance(i, int) or i < 0 for i in self.nce_layers) or not self.nce_layers:
            raise ValueError(f"Invalid value for `nce_layers`. Received: nce_layers={self.nce_layers!r}. Expected "
                             "one or more layer indices >= 0.")
        if self.nce_idt and self.input_channels != self.output_channels:
            raise ValueError(f"Invalid value for `nce_idt`. Received: nce_idt=True with input_channels="
                             f"{self.input_channels} != output_channels={self.output_channels}. The identity term "
                             "feeds B images to G (A -> B); set nce_idt=false for domains with different channels.")


CONFIG_CLASSES = {cls.model: cls for cls in (Pix2PixConfig, CycleGANConfig, CUTConfig)}
