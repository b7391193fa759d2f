"""The subcommands' options: one frozen dataclass of `option` fields per subcommand, besides the run configs.

`train`'s flags are those of `TrainOptions` (where the run goes, resuming) and of the model's config
(`config.Pix2PixConfig` / `config.CycleGANConfig` / `config.CUTConfig`); `translate`, `export`, `evaluate`,
`datasets synth` and `demo` take those of `TranslateOptions`, `ExportOptions`, `EvaluateOptions`,
`SynthOptions` and `DemoOptions`. `cli.py` builds each subcommand's parser from its class (`--` + the field's
name with `_` as `-`, unless `flag=` says otherwise), and `cli_help` / `cli_description` are the subcommand's
texts. A new field is a new flag; its checks apply to Python callers too. Nothing here imports TensorFlow.

Example:

>>> ExportOptions(run="runs/facades", quantize=("none", "int8")).representative_count
32
>>> EvaluateOptions(pred="out/pred")
Traceback (most recent call last):
ValueError: --pred DIR needs --truth DIR (the ground truth, matched by file name) and no --data.
"""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

from tfgan_translate.choices import Direction, DiscriminatorName, Fit, Norm, Quantization, TestBatchNorm, TestDropout
from tfgan_translate.config import Pix2PixConfig
from tfgan_translate.options import Options, option

# translate, evaluate and export take the same test-time flags (`choices.InferenceMode`); unset: the run's setting.
_TEST_DROPOUT = ("pix2pix's dropout at test time: on (the pix2pix paper; the reference's test.py) or off "
                 "(deterministic; its --eval); default: the run's test_dropout (on unless set)")
_TEST_BATCH_NORM = ("batch norm at test time: each image's own statistics (the pix2pix paper; the reference's "
                    "test.py) or the moving ones from training (its --eval); default: the run's test_batch_norm "
                    "(image unless set)")
_OF_AN_EXPORT = "; with --model, the export's own (another is refused)"


@dataclasses.dataclass(frozen=True)
class TrainOptions(Options):
    """`tfgan-translate train MODEL`'s flags besides the model's config: where the run goes, resuming."""

    out: str = option("", "run folder (config, checkpoints, logs, samples)", required=True)
    resume: bool = option(False, "continue the run in --out from its latest checkpoint (weights, optimizers, lr "
                                 "schedule, pools, data position); only flags given here change its saved config",
                          switch=True)
    overwrite: bool = option(False, "train a new run in an --out that holds one: its config.json, metrics.json, "
                                    "checkpoints, TensorBoard events and sample grids are deleted first; other files "
                                    "stay (in a non-empty folder holding no run: train beside its files, deleting "
                                    "nothing)", switch=True)
    n_epochs: int | None = option(None, "epochs at the initial learning rate (the reference's n_epochs); total = "
                                        "n_epochs + n_epochs_decay, with n_epochs_decay defaulting to n_epochs "
                                        "(cut: 200, fastcut: 50, the CUT authors'); instead of --epochs", ge=0)


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
    tile: int | None = option(None, "translate in overlapping TILE x TILE tiles blended without seams (a multiple "
                                    "of the generator's size rule); default: only images larger than "
                                    "--memory-budget allows (with --checkpoint)", gt=0)
    overlap: int | None = option(None, "least overlap of neighbouring tiles in pixels, rounded up so tiles start on "
                                       "multiples of the size rule (default: tile/4, at least 32)", ge=0)
    memory_budget: float = option(256.0, "MiB one generator pass may use (estimated from its layers; with "
                                         "--checkpoint a larger image is tiled to fit), and the most one decoded "
                                         "image may take (5 bytes a value; a larger image is refused before "
                                         "decoding)", gt=0, metavar="MIB")
    skip_bad_files: bool = option(False, "skip and count unreadable images (and images too large for "
                                         "--memory-budget) instead of stopping before the first is translated",
                                  switch=True)
    overwrite: bool = option(False, "replace files at the output names that translate did not write (its own "
                                     "earlier outputs are always replaced)", switch=True)
    test_dropout: TestDropout | None = option(None, _TEST_DROPOUT + _OF_AN_EXPORT)
    test_batch_norm: TestBatchNorm | None = option(None, _TEST_BATCH_NORM + _OF_AN_EXPORT)

    def _validate(self) -> None:
        if self.tile is not None and self.overlap is not None and self.overlap >= self.tile:
            raise ValueError(f"Invalid value for `--overlap`. Received: overlap={self.overlap}. Expected less than "
                             f"--tile {self.tile}.")


@dataclasses.dataclass(frozen=True)
class ExportOptions(Options):
    """`tfgan-translate export`: a run's generator as SavedModel and TFLite files."""

    cli_help = "export a trained generator as SavedModel and TFLite"
    cli_description = ("Write OUT/saved_model/ (signatures serving_default and translate_image), "
                       "OUT/generator_<float32|float16|int8>.tflite (builtin ops only) and OUT/metadata.json, "
                       "replacing OUT atomically; files of yours in an earlier export there are kept. Without "
                       "--saved-model or --tflite, both are written.")

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
    test_dropout: TestDropout | None = option(None, _TEST_DROPOUT + "; on: new noise on every run, no parity figures")
    test_batch_norm: TestBatchNorm | None = option(None, _TEST_BATCH_NORM)
    image_size: int | None = option(None, "fixed .tflite input size (default: the run's training size)", gt=0)
    dynamic_size: bool = option(False, "convert the .tflite with a dynamic height and width instead of a fixed "
                                       "size", switch=True)
    keep_transpose_conv: bool = option(False, "keep TRANSPOSE_CONV ops in the .tflite instead of the equivalent, "
                                              "faster sub-pixel convolutions (CONV_2D + DEPTH_TO_SPACE)", switch=True)
    benchmark: bool = option(False, "measure each .tflite's median latency per frame on 1 thread and on every core "
                                    "(LiteRT, XNNPACK) into metadata.json", switch=True)
    web: str | None = option(None, "write the export into OUT as a web page that translates photos in the browser "
                                   "with LiteRT.js (index.html, translate.js, model.json beside the fixed-size "
                                   ".tflite; no SavedModel unless --saved-model); instead of --out", metavar="OUT")
    web_runtime: str | None = option(None, "with --web: copy the LiteRT.js files the page loads from this "
                                           "@litertjs/core folder (node_modules/@litertjs/core) instead of loading "
                                           "them from the CDN", metavar="DIR")

    def _validate(self) -> None:
        if self.web and self.out:
            raise ValueError(f"--web {self.web} and --out {self.out}: give one. --web OUT writes the export into OUT.")
        if self.web and self.dynamic_size:
            raise ValueError("--web needs a fixed-size .tflite (LiteRT.js takes static shapes only): drop "
                             "--dynamic-size.")
        if self.web_runtime and not self.web:
            raise ValueError(f"--web-runtime {self.web_runtime} is for a web page: add --web OUT.")


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
    data: str | None = option(None, "paired data set (aligned A|B or A/ + B/) for --checkpoint/--model", metavar="DIR")
    split: str = option("test", "split of --data to translate; test falls back to val")
    size: int | None = option(None, "resize inputs and truths of --data to SIZE x SIZE first (e.g. the training "
                                    "size); default: the files' size", gt=0)
    fit: Fit = option("pad", "meet the generator's size rule by reflect-padding or resizing, as translate")
    channels: typing.Literal[1, 3, 4] = option(3, "channels --pred and --truth are read with")
    skip_bad_files: bool = option(False, "skip and count unreadable images (listed in the JSON, the report and the "
                                         "summary) instead of stopping at the first", switch=True)
    json: str | None = option(None, "write the per-image and mean figures as JSON: a new file or an earlier "
                                    "evaluation's", metavar="OUT")
    report: str | None = option(None, "write DIR/report.md, DIR/metrics.json and DIR/samples.png ([input |] pred | "
                                      "truth); with --checkpoint/--model also the translations (DIR/input, "
                                      "DIR/pred, DIR/truth); a new or empty folder or an earlier report",
                                metavar="DIR")
    grid_rows: int = option(8, "rows in the report's sample grid", ge=0)
    kid: bool = option(False, "KID (Inception-v3 features)", switch=True)
    fid: bool = option(False, "FID (Inception-v3 features)", switch=True)
    feature_weights: str = option("imagenet", "Inception-v3 weights for KID/FID: 'imagenet' (Keras cache or "
                                              "download) or a local .h5 file (include_top=False) for offline "
                                              "machines", metavar="PATH")
    kid_subsets: int = option(100, "KID subsets", gt=0)
    kid_subset_size: int = option(1000, "images per KID subset at most", gt=1)
    test_dropout: TestDropout | None = option(None, _TEST_DROPOUT + _OF_AN_EXPORT)
    test_batch_norm: TestBatchNorm | None = option(None, _TEST_BATCH_NORM + _OF_AN_EXPORT)

    def _validate(self) -> None:
        if self.pred and (self.test_dropout or self.test_batch_norm):
            raise ValueError("--test-dropout and --test-batch-norm choose how --checkpoint RUN runs; --pred DIR "
                             "holds translations already made.")
        if self.pred and (not self.truth or self.data):
            raise ValueError("--pred DIR needs --truth DIR (the ground truth, matched by file name) and no --data.")
        if not self.pred and (not self.data or self.truth):
            raise ValueError(f"{'--checkpoint' if self.checkpoint else '--model'} needs --data DIR (a paired data set "
                             "whose --split is translated and evaluated) and no --truth.")


@dataclasses.dataclass(frozen=True)
class ImportOptions(Options):
    """`tfgan-translate import`: the PyTorch reference's checkpoints as a run folder (`reference.import_reference`)."""

    cli_help = "import the PyTorch reference's generators (a .pth file, a checkpoint folder or a pretrained name)"
    cli_description = ("Write a run folder (config.json, checkpoints/latest.keras, imported.json) from the PyTorch "
                       "reference (pytorch-CycleGAN-and-pix2pix): one generator's .pth file (its tensors give the "
                       "architecture; the flags override it), a whole checkpoints/NAME/ folder (its options file "
                       "gives it), or one of the 29 pretrained models (--pretrained NAME, downloaded once into a "
                       "cache; 6 are the CUT authors', imported as CUT runs, as their run folders are). "
                       "translate, export, evaluate and train --resume accept the result. Nothing in the "
                       "files is executed: the reader accepts only tensors.")

    source: str | None = option(None, "a generator's .pth file, or a reference checkpoints/NAME/ folder",
                                positional=True, metavar="CHECKPOINT")
    pretrained: str | None = option(None, "a pretrained model (e.g. horse2zebra, "
                                          "pix2pix_facades_label2photo, horse2zebra_cut)", metavar="NAME")
    out: str = option("", "run folder to write (new or empty)", required=True)
    overwrite: bool = option(False, "write into a folder that holds files (replaces config.json, imported.json "
                                    "and checkpoints/latest.keras; deletes nothing)", switch=True)
    epoch: str = option("latest", "with a checkpoint folder: which epoch's files")
    netG: str | None = option(None, "with a .pth file: the reference's --netG (unet_256, resnet_9blocks, ...; "
                                    "default: read from the file)")
    norm: Norm | None = option(None, "with a .pth file: the reference's --norm (default: read from the file)")
    dropout: float | None = option(None, "generator dropout (default: read from a ResNet file; 0.5 for a U-Net, "
                                         "0 for --no_dropout runs)", ge=0, lt=1)
    ngf: int | None = option(None, "generator filters in the first conv (default: 64)", gt=0)
    input_channels: int | None = option(None, "the reference's --input_nc (default: 3)", gt=0)
    output_channels: int | None = option(None, "the reference's --output_nc (default: 3)", gt=0)
    direction: Direction | None = option(None, "which way the generator maps the data folders (default: AtoB)")
    discriminator: str | None = option(None, "the run's net_D.pth, imported too (default: a fresh one)",
                                       metavar="PATH_D.pth")
    netD: DiscriminatorName | None = option(None, "with --discriminator: the reference's --netD (default: basic)")
    n_layers_D: int | None = option(None, "the reference's --n_layers_D (default: 3)", gt=0)
    ndf: int | None = option(None, "discriminator filters in the first conv (default: 64)", gt=0)

    def _validate(self) -> None:
        if (self.source is None) == (self.pretrained is None):
            raise ValueError("Invalid arguments: pass a checkpoint (a .pth file or a reference checkpoints/NAME/ "
                             f"folder) or --pretrained NAME, not {'both' if self.source is not None else 'neither'}.")

    def architecture(self) -> dict:
        """The architecture flags given, for `reference.import_reference`."""
        names = ("netG", "norm", "dropout", "ngf", "input_channels", "output_channels", "direction",
                 "discriminator", "netD", "n_layers_D", "ndf")
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}


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
