"""The `tfgan-translate` command line: parse flags into a config, call one function.

    tfgan-translate train pix2pix --data PATH --out RUN_DIR [flags]
    tfgan-translate train cyclegan --data PATH --out RUN_DIR [flags]
    tfgan-translate translate --checkpoint RUN_DIR --input PATH --output DIR
    tfgan-translate translate --model EXPORT.tflite|SAVED_MODEL_DIR --input PATH --output DIR
    tfgan-translate export RUN_DIR --out DIR [--saved-model] [--tflite] [--quantize none|float16|int8]
    tfgan-translate evaluate --pred DIR --truth DIR | --checkpoint RUN_DIR --data DIR [--json OUT] [--report DIR]
    tfgan-translate datasets synth --out DIR
    tfgan-translate demo --out RUN_DIR

Every subcommand has --help. Flags default to the config's defaults (the
reference implementation's), which --help shows.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
from pathlib import Path

log = logging.getLogger("tfgan_translate")


def _field_default(config_cls, name):
    for field in dataclasses.fields(config_cls):
        if field.name == name:
            return field.default
    raise KeyError(name)


def _add_config_flags(parser: argparse.ArgumentParser, config_cls, flags) -> None:
    """Adds `--flag` options whose dest is a config field; unset flags keep the config default."""
    for flag, field, kwargs in flags:
        default = _field_default(config_cls, field)
        help_text = kwargs.pop("help", "")
        kwargs.setdefault("metavar", field.upper() if "choices" not in kwargs and kwargs.get("type") else None)
        if kwargs["metavar"] is None:
            kwargs.pop("metavar")
        parser.add_argument(flag, dest=field, default=None, help=f"{help_text} (default: {default})", **kwargs)


def _optional_int(text: str) -> int | None:
    return None if text.lower() in ("none", "auto", "0") else int(text)


def _bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true/false, got {text!r}")


COMMON_FLAGS = [
    ("--direction", "direction", dict(choices=["AtoB", "BtoA"], help="translate A into B, or B into A")),
    ("--image-size", "image_size", dict(type=int, help="training crop size")),
    ("--load-size", "load_size", dict(type=int, help="resize before the random crop")),
    ("--preprocess", "preprocess", dict(choices=["resize_and_crop", "crop", "scale_width",
                                                 "scale_width_and_crop", "none"], help="jitter mode")),
    ("--flip", "flip", dict(type=_bool, help="random horizontal flip (true/false)")),
    ("--input-channels", "input_channels", dict(type=int, help="channels of the input images")),
    ("--output-channels", "output_channels", dict(type=int, help="channels of the output images")),
    ("--skip-bad-files", "skip_bad_files", dict(action="store_const", const=True,
                                                help="skip and count unreadable images instead of failing")),
    ("--netG", "netG", dict(type=str, help="unet_256 | unet_128 | unet_<2**depth> | resnet_9blocks | resnet_6blocks")),
    ("--netD", "netD", dict(choices=["basic", "n_layers", "pixel"], help="basic = 70x70 PatchGAN; pixel = 1x1")),
    ("--n-layers-D", "n_layers_D", dict(type=int, help="PatchGAN depth for --netD n_layers (1: 16x16, 3: 70x70, 5: 286x286)")),
    ("--ngf", "ngf", dict(type=int, help="generator filters in the first conv")),
    ("--ndf", "ndf", dict(type=int, help="discriminator filters in the first conv")),
    ("--norm", "norm", dict(choices=["batch", "instance", "none"], help="normalisation layers")),
    ("--dropout", "dropout", dict(type=float, help="U-Net decoder dropout (kept on at test time)")),
    ("--upsample", "upsample", dict(choices=["transpose", "resize"], help="transposed conv or resize-conv")),
    ("--gan-mode", "gan_mode", dict(choices=["vanilla", "lsgan", "wgangp"], help="adversarial loss")),
    ("--epochs", "epochs", dict(type=int, help="epochs in total")),
    ("--n-epochs-decay", "n_epochs_decay", dict(type=_optional_int,
                                                help="final epochs with linear lr decay to 0 (none: half of --epochs)")),
    ("--steps-per-epoch", "steps_per_epoch", dict(type=_optional_int, help="steps per epoch (none: one pass)")),
    ("--batch-size", "batch_size", dict(type=int, help="batch size")),
    ("--lr", "lr", dict(type=float, help="Adam learning rate")),
    ("--beta1", "beta_1", dict(type=float, help="Adam beta_1")),
    ("--seed", "seed", dict(type=int, help="random seed (weights, data order, jitter)")),
    ("--validation-steps", "validation_steps", dict(type=_optional_int, help="validation batches (none: all)")),
    ("--lambda-gp", "lambda_gp", dict(type=float, help="gradient-penalty weight for --gan-mode wgangp")),
    ("--lr-decay-per-step", "lr_decay_per_step", dict(type=_bool, help="decay the lr every step, not every epoch")),
    ("--strategy", "strategy", dict(choices=["auto", "none", "mirrored", "multiworker", "tpu"],
                                    help="tf.distribute strategy (multiworker reads TF_CONFIG)")),
    ("--precision", "precision", dict(choices=["auto", "float32", "mixed_bfloat16", "mixed_float16"],
                                      help="compute precision; auto picks bfloat16 where the hardware runs it fast")),
    ("--jit", "jit", dict(action="store_const", const=True, help="XLA-compile the train step (slow on CPU)")),
    ("--sync-batch-norm", "sync_batch_norm", dict(action="store_const", const=True,
                                                  help="batch-norm statistics across replicas")),
    ("--winograd", "winograd", dict(type=_bool, help="stride-1 3x3 / 4x4 convs as Winograd on CPU "
                                                     "(true/false; false saves memory)")),
    ("--log-every", "log_every", dict(type=int, help="steps between per-step TensorBoard scalars")),
    ("--sample-every", "sample_every", dict(type=_optional_int, help="steps between TensorBoard preview grids")),
    ("--checkpoint-every", "checkpoint_every", dict(type=_optional_int,
                                                    help="steps between extra checkpoints (epoch ends always save)")),
    ("--keep-checkpoints", "keep_checkpoints", dict(type=int, help="epoch/step checkpoints kept besides latest")),
]

PIX2PIX_FLAGS = COMMON_FLAGS + [
    ("--objective", "objective", dict(choices=["l1", "gan", "cgan", "l1+gan", "l1+cgan"],
                                      help="loss terms (the paper's ablation)")),
    ("--lambda-l1", "lambda_l1", dict(type=float, help="weight of the L1 term")),
]

CYCLEGAN_FLAGS = COMMON_FLAGS + [
    ("--lambda-cycle", "lambda_cycle", dict(type=float, help="cycle-consistency weight")),
    ("--lambda-identity", "lambda_identity", dict(type=float,
                                                  help="identity weight relative to --lambda-cycle (0: off)")),
    ("--pool-size", "pool_size", dict(type=int, help="generated images kept per discriminator (0: no pool)")),
]


def _config_from_args(config_cls, args):
    """The config the flags describe; with --resume, the run's saved config with the given flags applied."""
    names = {f.name for f in dataclasses.fields(config_cls)}
    values = {k: v for k, v in vars(args).items() if k in names and v is not None}
    base = None
    if getattr(args, "resume", False) and (Path(args.out) / "config.json").is_file():
        from tfgan_translate.config import load_config

        base = load_config(args.out)
        if not isinstance(base, config_cls):
            raise ValueError(f"--resume: {args.out} holds a {base.model} run, not {config_cls.model}.")
    elif not values.get("data"):
        raise ValueError("the following argument is required: --data (unless --resume finds a run in --out)")
    if getattr(args, "n_epochs", None) is not None:
        # The reference's pair: n_epochs at the initial rate, then n_epochs_decay (default: as many).
        if args.epochs is not None:
            raise ValueError("Pass either --epochs (total) or --n-epochs (constant phase), not both.")
        decay = args.n_epochs if args.n_epochs_decay is None else args.n_epochs_decay
        values.update(epochs=args.n_epochs + decay, n_epochs_decay=decay)
    return base.replace(**values) if base is not None else config_cls(**values)


# ----------------------------------------------------------------- commands
def _cmd_train(args) -> int:
    from tfgan_translate.config import CONFIG_CLASSES
    from tfgan_translate.training.run import train

    config = _config_from_args(CONFIG_CLASSES[args.model], args)
    result = train(config, args.out, resume=args.resume)
    _report(result)
    return 0


def _report(result) -> None:
    keys = ("g_l1_loss", "g_loss", "d_loss", "gen_loss", "cycle_a_loss", "cycle_b_loss", "d_a_loss", "d_b_loss")
    shown = {k: v for k, v in result.metrics.items() if k.startswith("val_") or k in keys}
    print(f"Run folder: {result.run_dir}")
    for name, value in sorted(shown.items()):
        print(f"  {name}: {value:.4f}" if value is not None else f"  {name}: n/a")


def _cmd_translate(args) -> int:
    from tfgan_translate.inference import generator_for, translate_files
    from tfgan_translate.training.run import load_run

    if args.model is not None:
        return _cmd_translate_export(args)
    config, model = load_run(args.checkpoint)
    if config is None:
        raise ValueError("Invalid value for `--checkpoint`: translate needs a run folder (with config.json) "
                         "to know the generator's size rule and channels.")
    direction = args.direction or config.direction
    generator = generator_for(model, direction, config.direction)
    forward = direction == config.direction
    written = translate_files(generator, args.input, args.output, netG=config.netG,
                              input_channels=config.input_channels if forward else config.output_channels,
                              fit=args.fit, aligned=args.aligned, direction=direction)
    print(f"Wrote {len(written)} image(s) to {args.output}")
    return 0


def _cmd_translate_export(args) -> int:
    """`translate --model`: run an exported .tflite or SavedModel, reading the metadata.json beside it."""
    from tfgan_translate.export import load_export, translate_files_with_export

    model = load_export(args.model)
    exported = (model.metadata or {}).get("model", {}).get("direction")
    wanted = getattr(args, "direction", None)
    if wanted is not None and exported is not None and wanted != exported:
        raise ValueError(f"Invalid value for `--direction`: {wanted}. {args.model} translates {exported}; "
                         "export the other direction (`tfgan-translate export RUN --direction ...`) to use it.")
    written = translate_files_with_export(model, args.input, args.output, fit=args.fit, aligned=args.aligned)
    print(f"Wrote {len(written)} image(s) to {args.output}")
    return 0


def _quantizations(text: str) -> list[str]:
    """--quantize value: one name or a comma-separated list."""
    from tfgan_translate.export import QUANTIZATIONS

    names = [name.strip() for name in text.split(",") if name.strip()]
    bad = [name for name in names if name not in QUANTIZATIONS]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"expected {' | '.join(QUANTIZATIONS)} (or a comma-separated list), got {text!r}")
    return names


def _cmd_export(args) -> int:
    from tfgan_translate.export import export_generator

    logging.getLogger("tensorflow").setLevel(logging.WARNING)  # no "Assets written to" lines
    both = not (args.saved_model or args.tflite)
    quantize = [name for names in (args.quantize or [["none"]]) for name in names]
    result = export_generator(
        args.run, args.out, direction=args.direction, saved_model=args.saved_model or both,
        tflite=args.tflite or both, quantize=quantize, representative_data=args.representative_data,
        representative_count=args.representative_count, noise=args.noise, image_size=args.image_size,
        dynamic_size=args.dynamic_size, subpixel=not args.keep_transpose_conv,
    )
    print(f"Export written to {result.out_dir}")
    if result.saved_model is not None:
        print(f"  {result.saved_model}/  (signatures: serving_default float [-1, 1]; translate_image uint8, any size)")
    for path in result.tflite.values():
        print(f"  {path}  ({path.stat().st_size / 1e6:.2f} MB)")
    print(f"  {result.metadata_path}")
    for name, figures in result.metadata["parity"].items():
        if isinstance(figures, dict) and "max_abs_diff" in figures:
            psnr = figures["psnr_db"]
            print(f"  parity {name}: max abs diff {figures['max_abs_diff']:.2e}, "
                  f"PSNR {'identical' if psnr is None else f'{psnr:.1f} dB'}"
                  f"{'' if figures['meets_target'] else '  (misses its target)'}")
    return 0


def _cmd_evaluate(args) -> int:
    """`evaluate`: paired metrics (and KID/FID) of translations against ground truth.

    With --checkpoint or --model, the test split of --data is translated first
    (into --report DIR, else a temporary folder) and then evaluated.
    """
    import tempfile

    from tfgan_translate.evaluation import (
        FeatureWeightsUnavailable,
        InceptionFeatures,
        evaluate_folders,
        translate_split,
        write_json,
        write_report,
    )

    sources = [flag for flag, value in (("--pred", args.pred), ("--checkpoint", args.checkpoint),
                                        ("--model", args.model)) if value]
    if len(sources) != 1:
        raise ValueError(f"Pass one of --pred DIR (with --truth DIR), --checkpoint RUN_DIR or --model EXPORT (with "
                         f"--data DIR); received {' and '.join(sources) or 'none'}.")
    if args.pred and (not args.truth or args.data):
        raise ValueError("--pred DIR needs --truth DIR (the ground truth, matched by file name) and no --data.")
    if not args.pred and (not args.data or args.truth):
        raise ValueError(f"{sources[0]} needs --data DIR (a paired data set whose --split is translated and "
                         "evaluated) and no --truth.")
    extractor = None
    if args.kid or args.fid:  # before any translating: fail fast without the weights
        try:
            extractor = InceptionFeatures(args.feature_weights)
        except FeatureWeightsUnavailable as error:
            print(f"tfgan-translate: error: {error}", file=sys.stderr)
            return 2

    with tempfile.TemporaryDirectory(prefix="tfgan-evaluate-") as scratch:
        info, input_dir = {}, None
        if args.pred:
            pred_dir, truth_dir, channels = args.pred, args.truth, args.channels
        else:
            if args.checkpoint:
                from tfgan_translate.inference import generator_for, translate_array
                from tfgan_translate.networks import generator_size_multiple
                from tfgan_translate.training.run import load_run

                config, model = load_run(args.checkpoint)
                if config is None:
                    raise ValueError("Invalid value for `--checkpoint`: evaluate needs a run folder (with "
                                     "config.json) for the generator's direction, size rule and channels.")
                generator = generator_for(model, None, config.direction)
                multiple = generator_size_multiple(config.netG)

                def translate(image):
                    return translate_array(generator, image, multiple, fit=args.fit)

                domain = "A" if config.direction == "AtoB" else "B"
                channels_in, channels = config.input_channels, config.output_channels
                info = {"checkpoint": str(args.checkpoint), "direction": config.direction}
            else:
                from tfgan_translate.export import load_export

                exported = load_export(args.model)

                def translate(image):
                    return exported.translate_array(image, fit=args.fit)

                domain = exported.input_domain
                channels_in, channels = exported.input_channels, exported.output_channels or 3
                info = {"model": str(args.model)}
            out = Path(args.report) if args.report else Path(scratch)
            folders = translate_split(translate, args.data, out, split=args.split, input_domain=domain,
                                      input_channels=channels_in, output_channels=channels, size=args.size)
            pred_dir, truth_dir, input_dir = folders["pred"], folders["truth"], folders["input"]
            info.update(data=str(args.data), split=args.split, size=args.size)
        result = evaluate_folders(pred_dir, truth_dir, channels=channels, kid=args.kid, fid=args.fid,
                                  extractor=extractor, kid_subsets=args.kid_subsets,
                                  kid_subset_size=args.kid_subset_size)
        result.info.update(info)
        if args.json:
            write_json(result, args.json)
        report = None
        if args.report:
            report = write_report(result, args.report, pred_dir=pred_dir, truth_dir=truth_dir, input_dir=input_dir,
                                  rows=args.grid_rows)

    mean = result.mean
    print(f"Evaluated {len(result.per_image)} image pair(s): L1 {mean['l1']:.4f}  PSNR {mean['psnr']:.2f} dB  "
          f"SSIM {mean['ssim']:.4f}  sharpness {mean['sharpness']:.3f}")
    if result.info.get("resized"):
        print(f"  {len(result.info['resized'])} prediction(s) resized to their truth's size")
    if result.kid is not None:
        print(f"  KID {result.kid['mean']:.5f} +- {result.kid['std']:.5f}")
    if result.fid is not None:
        print(f"  FID {result.fid:.3f}")
    if args.json:
        print(f"JSON: {args.json}")
    if report is not None:
        print(f"Report: {report}")
    return 0


def _cmd_datasets_synth(args) -> int:
    from tfgan_translate.data import write_synthetic_dataset

    path = write_synthetic_dataset(args.out, n_train=args.n_train, n_test=args.n_test, size=args.size, seed=args.seed)
    print(f"Synthetic facades (label map | photo) written to {path}")
    return 0


def _cmd_demo(args) -> int:
    from tfgan_translate.config import Pix2PixConfig
    from tfgan_translate.data import write_synthetic_dataset
    from tfgan_translate.inference import translate_files
    from tfgan_translate.training.run import train

    out = Path(args.out)
    data = write_synthetic_dataset(out / "data", n_train=args.n_train, n_test=8, size=64, seed=0)
    # float32: at 64 px and ngf 32 the bfloat16 casts cost more than they save, even where bfloat16 is
    # fast for full-size networks (1.19x slower per step on an AVX512_BF16 CPU).
    config = Pix2PixConfig(data=str(data), image_size=64, load_size=72, netG="unet_64", ngf=32, ndf=32,
                           epochs=args.epochs, batch_size=4, lr=5e-4, sample_count=6, seed=0, precision="float32")
    print(f"Training pix2pix on the built-in synthetic facades: {config.epochs} epochs at 64x64 ...")
    result = train(config, out / "run")
    written = translate_files(result.model.generator, data / "test", out / "translated", netG=config.netG,
                              input_channels=config.input_channels, aligned=True, direction=config.direction)
    _report(result)
    samples = sorted((out / "run" / "samples").glob("*.png"))
    print(f"Sample grid (input | output | target): {samples[-1] if samples else 'none'}")
    print(f"Translated {len(written)} held-out label maps into {out / 'translated'}")
    print(f"TensorBoard: tensorboard --logdir {out / 'run' / 'logs'}")
    return 0


# ------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    from tfgan_translate.config import CycleGANConfig, Pix2PixConfig

    parser = argparse.ArgumentParser(prog="tfgan-translate", description="Image-to-image translation with GANs.")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser("train", help="train a model", description="Train pix2pix or CycleGAN.")
    models = train.add_subparsers(dest="model", required=True, metavar="MODEL")
    data_help = {
        "pix2pix": "aligned A|B folder (train/ and test/ or val/ inside, or images directly), a folder with A/ "
                   "and B/, or 'synth' for the built-in data",
        "cyclegan": "CycleGAN folder (trainA/ trainB/ testA/ testB/), an aligned A|B folder used unpaired, "
                    "'tfds:cycle_gan/NAME', or 'synth' / 'synth:palette' for the built-in unpaired data",
    }
    for name, config_cls, flags, description in (
        ("pix2pix", Pix2PixConfig, PIX2PIX_FLAGS, "Train pix2pix (cGAN + L1, Isola et al. 2017) on paired images."),
        ("cyclegan", CycleGANConfig, CYCLEGAN_FLAGS,
         "Train CycleGAN (Zhu et al. 2017) on unpaired images of two domains."),
    ):
        sub = models.add_parser(name, help=description.split(" (")[0].replace("Train ", "") + " training",
                                description=description)
        sub.add_argument("--data", help=data_help[name] + " (required unless --resume finds a run)")
        sub.add_argument("--out", required=True, help="run folder (config, checkpoints, logs, samples)")
        _add_config_flags(sub, config_cls, [(f, n, dict(k)) for f, n, k in flags])
        sub.add_argument("--resume", action="store_true",
                         help="continue the run in --out from its latest checkpoint (weights, optimizers, lr "
                              "schedule, pools, data position); only flags given here change its saved config")
        sub.add_argument("--n-epochs", type=int, default=None,
                         help="epochs at the initial learning rate (the reference's n_epochs); total = n_epochs + "
                              "n_epochs_decay, with n_epochs_decay defaulting to n_epochs; instead of --epochs")
        sub.set_defaults(func=_cmd_train)

    tr = commands.add_parser("translate", help="translate images with a trained run",
                             description="Translate an image or a folder; writes OUTPUT/<stem>.png at the input's size.")
    source = tr.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", help="run folder written by `train`")
    source.add_argument("--model", metavar="PATH.tflite|SAVED_MODEL_DIR",
                        help="an export written by `export`: a .tflite file, or the export (or saved_model/) folder; "
                             "its metadata.json gives channels and size rule. A fixed-size .tflite pads images that "
                             "fit inside its size (--fit pad) and resizes the others")
    tr.add_argument("--input", required=True, help="an image file or a folder of images")
    tr.add_argument("--output", required=True, help="output folder")
    tr.add_argument("--fit", choices=["pad", "resize"], default="pad",
                    help="meet the generator's size rule by reflect-padding (and cropping back) or by resizing")
    tr.add_argument("--direction", choices=["AtoB", "BtoA"], default=None,
                    help="AtoB or BtoA, named after the data folders; default: the run's training direction "
                         "(a CycleGAN run translates both ways: G one way, F the other)")
    tr.add_argument("--aligned", action="store_true",
                    help="inputs are A|B pairs: translate the half the run's direction takes as input")
    tr.set_defaults(func=_cmd_translate)

    ex = commands.add_parser(
        "export", help="export a trained generator as SavedModel and TFLite",
        description="Write OUT/saved_model/ (signatures serving_default and translate_image), "
                    "OUT/generator_<float32|float16|int8>.tflite (builtin ops only) and OUT/metadata.json, "
                    "replacing OUT atomically. Without --saved-model or --tflite, both are written.")
    ex.add_argument("run", metavar="RUN_OR_CHECKPOINT", help="run folder (config.json + checkpoints/) or a .keras file")
    ex.add_argument("--out", default=None, help="export folder (default: exports/<run-name>/)")
    ex.add_argument("--direction", choices=["AtoB", "BtoA"], default=None,
                    help="which way to translate, named after the data folders (default: the run's; the other "
                         "way needs a CycleGAN)")
    ex.add_argument("--saved-model", action="store_true", help="write the SavedModel")
    ex.add_argument("--tflite", action="store_true", help="write .tflite files")
    ex.add_argument("--quantize", type=_quantizations, action="append", metavar="none|float16|int8",
                    help="which .tflite files: none (float32), float16, int8 (full integer, float I/O); "
                         "repeat or comma-separate for several (default: none)")
    ex.add_argument("--representative-data", metavar="DIR", default=None,
                    help="folder of input images for int8 calibration and the parity check "
                         "(default: the run's training data)")
    ex.add_argument("--representative-count", type=int, default=32, help="calibration images at most (default: 32)")
    ex.add_argument("--noise", choices=["off", "on"], default="off",
                    help="test-time dropout: off = deterministic (default); on = pix2pix's noise kept at inference")
    ex.add_argument("--image-size", type=int, default=None,
                    help="fixed .tflite input size (default: the run's training size)")
    ex.add_argument("--dynamic-size", action="store_true",
                    help="convert the .tflite with a dynamic height and width instead of a fixed size")
    ex.add_argument("--keep-transpose-conv", action="store_true",
                    help="keep TRANSPOSE_CONV ops in the .tflite instead of the equivalent, faster sub-pixel "
                         "convolutions (CONV_2D + DEPTH_TO_SPACE)")
    ex.set_defaults(func=_cmd_export)

    ev = commands.add_parser(
        "evaluate", help="measure translations against ground truth (L1, PSNR, SSIM, sharpness, KID, FID)",
        description="Paired metrics per image and on average: L1 (pixels in [-1, 1]), PSNR (dB, capped at 100), "
                    "SSIM, sharpness (high-frequency energy of pred / truth: ~1 realistic, <1 blurred); KID and "
                    "FID from Inception-v3 features on request. Files are matched by name without extension; a "
                    "prediction of another size is resized (bicubic) to its truth's size. With --checkpoint or "
                    "--model, the --split of --data is translated first (the run's direction).")
    what = ev.add_mutually_exclusive_group(required=True)
    what.add_argument("--pred", metavar="DIR", help="folder of translated images (with --truth)")
    what.add_argument("--checkpoint", metavar="RUN_DIR", help="run folder: translate --data's split first")
    what.add_argument("--model", metavar="PATH.tflite|SAVED_MODEL_DIR", help="an export: translate --data's split first")
    ev.add_argument("--truth", metavar="DIR", help="folder of ground-truth images (with --pred)")
    ev.add_argument("--data", metavar="DIR", help="paired data set (aligned A|B or A/ + B/) for --checkpoint/--model")
    ev.add_argument("--split", default="test", help="split of --data to translate; test falls back to val (default: test)")
    ev.add_argument("--size", type=int, default=None,
                    help="resize inputs and truths of --data to SIZE x SIZE first (e.g. the training size); "
                         "default: the files' size")
    ev.add_argument("--fit", choices=["pad", "resize"], default="pad",
                    help="meet the generator's size rule by reflect-padding or resizing, as translate (default: pad)")
    ev.add_argument("--channels", type=int, choices=[1, 3, 4], default=3,
                    help="channels --pred and --truth are read with (default: 3)")
    ev.add_argument("--json", metavar="OUT", help="write the per-image and mean figures as JSON")
    ev.add_argument("--report", metavar="DIR",
                    help="write DIR/report.md, DIR/metrics.json and DIR/samples.png ([input |] pred | truth); "
                         "with --checkpoint/--model also the translations (DIR/input, DIR/pred, DIR/truth)")
    ev.add_argument("--grid-rows", type=int, default=8, help="rows in the report's sample grid (default: 8)")
    ev.add_argument("--kid", action="store_true", help="KID (Inception-v3 features)")
    ev.add_argument("--fid", action="store_true", help="FID (Inception-v3 features)")
    ev.add_argument("--feature-weights", metavar="PATH", default="imagenet",
                    help="Inception-v3 weights for KID/FID: 'imagenet' (Keras cache or download) or a local "
                         ".h5 file (include_top=False) for offline machines (default: imagenet)")
    ev.add_argument("--kid-subsets", type=int, default=100, help="KID subsets (default: 100)")
    ev.add_argument("--kid-subset-size", type=int, default=1000, help="images per KID subset at most (default: 1000)")
    ev.set_defaults(func=_cmd_evaluate)

    ds = commands.add_parser("datasets", help="prepare datasets", description="Prepare datasets.")
    kinds = ds.add_subparsers(dest="dataset", required=True, metavar="DATASET")
    synth = kinds.add_parser("synth", help="the built-in synthetic facades (label map | photo)",
                             formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    synth.add_argument("--out", required=True, help="output folder (train/ and test/ are written inside)")
    synth.add_argument("--n-train", type=int, default=200)
    synth.add_argument("--n-test", type=int, default=20)
    synth.add_argument("--size", type=int, default=256, help="height of each half; files are size x 2*size")
    synth.add_argument("--seed", type=int, default=0)
    synth.set_defaults(func=_cmd_datasets_synth)

    demo = commands.add_parser("demo", help="the main job: synthetic data -> pix2pix -> translations",
                               formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                               description="Generate the built-in data, train pix2pix for a few minutes on CPU, "
                                           "and translate the held-out label maps.")
    demo.add_argument("--out", default="runs/demo", help="folder for data, run and translations")
    demo.add_argument("--epochs", type=int, default=30)
    demo.add_argument("--n-train", type=int, default=200)
    demo.set_defaults(func=_cmd_demo)
    return parser


def main(argv=None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(levelname)s %(message)s")
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as error:
        # Bad input: the message names the argument or file; no traceback for users.
        print(f"tfgan-translate: error: {error}", file=sys.stderr)
        return 2
    except RuntimeError as error:
        from tfgan_translate.training.monitoring import TrainingDiverged

        if not isinstance(error, TrainingDiverged):
            raise
        print(f"tfgan-translate: {error}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
