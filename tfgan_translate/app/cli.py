"""The `tfgan-translate` command line: parse flags into a config, call one function.

    tfgan-translate train pix2pix|cyclegan|cut|fastcut --data PATH --out RUN_DIR [flags]
    tfgan-translate translate|export|evaluate|datasets synth|demo ...   (each with --help)

No flag is declared here: each is a field of a dataclass declared with `options.option`: the run configs of
`config.py` (`Pix2PixConfig`, `CycleGANConfig`, `CUTConfig`) and the subcommands' options of `command_options.py`
(`TrainOptions`, `TranslateOptions`, ...); `add_flags` makes the arguments. To add a subcommand, declare its
options (an `options.Options` dataclass of `option` fields, anywhere), write `_cmd_NAME(options, args)` calling
one function (what it returns, if anything, has a `summary()` that is printed), and add a row to `COMMANDS`.
`main` is the error boundary (`errors.guarded`: one line and an exit code of `errors.EXIT_CODES` per expected
failure); `logs.setup` makes the logs readable.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import typing
from pathlib import Path

from tfgan_translate import config as cfg
from tfgan_translate.app import command_options as cmd
from tfgan_translate.app import errors, logs
from tfgan_translate.choices import literal_values
from tfgan_translate.options import flag_name, integers, names, text_parser, unwrap_optional


# ------------------------------------------------------------------ flags from dataclass fields
def _value_kwargs(field: dataclasses.Field, annotation) -> dict:
    """argparse's type, choices, action and metavar for a field, from its annotation (`options.text_parser`)."""
    values, parse = literal_values(unwrap_optional(annotation)[0]), text_parser(annotation)
    if values is not None:
        return dict(choices=values, type=parse)
    if field.metadata["switch"]:
        return dict(action="store_const", const=True)
    action = "extend" if parse in (names, integers) else "store"  # tuples: repeatable, comma-separated
    return dict(action=action, type=parse, metavar=field.metadata["metavar"] or field.name.upper())


def add_flags(parser: argparse.ArgumentParser, options_cls) -> None:
    """Adds one argument per field of `options_cls` (declared with `options.option`); an unset flag is None.

    For the run configs, `config.requested_config` checks the required fields (a resumed run has them).
    """
    hints, groups = typing.get_type_hints(options_cls), {}
    resumable = options_cls in cfg.CONFIG_CLASSES.values()
    for field in dataclasses.fields(options_cls):
        meta = field.metadata
        if not meta.get("cli"):
            continue
        kwargs = _value_kwargs(field, hints[field.name])
        help_text = meta["help"]
        if meta["required"] and resumable:
            help_text += " (required unless --resume finds a run)"
        elif not (meta["required"] or meta["positional"] or meta["group"] or "default" in help_text):
            listed = isinstance(field.default, tuple) and all(isinstance(v, str) for v in field.default)
            shown = ",".join(field.default) if listed else field.default
            help_text += f" (default: {shown})"
        if meta["positional"]:
            parser.add_argument(field.name, nargs="?" if field.default is None else None, help=help_text, **kwargs)
            continue
        if meta["group"] and meta["group"] not in groups:
            groups[meta["group"]] = parser.add_mutually_exclusive_group(required=True)
        target = groups.get(meta["group"], parser)
        target.add_argument(flag_name(field), dest=field.name, default=None, help=help_text,
                            required=meta["required"] and not resumable, **kwargs)


def _given(options_cls, args: argparse.Namespace) -> dict:
    """The fields of `options_cls` whose flag is given (the others keep their default)."""
    return {f.name: getattr(args, f.name) for f in dataclasses.fields(options_cls)
            if getattr(args, f.name, None) is not None}


def config_from_args(config_cls, args: argparse.Namespace, fixed: dict | None = None):
    """The run config `train`'s flags describe (`config.requested_config`: defaults or the resumed run's), with
    the fields `fixed` by the subcommand's name (`TRAIN_MODELS`)."""
    o = cmd.TrainOptions(**_given(cmd.TrainOptions, args))
    return cfg.requested_config(config_cls, {**_given(config_cls, args), **(fixed or {})}, run_dir=o.out,
                                resume=o.resume, n_epochs=o.n_epochs)


# ------------------------------------------------------------------ the subcommands: options -> one call
def _cmd_train(o: cmd.TrainOptions, args):
    import keras

    from tfgan_translate.training.run import train

    config_cls, fixed = TRAIN_MODELS[args.model]
    # A Ctrl-C that TensorFlow or a finaliser swallowed still stops the run, after the step it came in.
    ctrl_c = keras.callbacks.LambdaCallback(on_train_batch_end=lambda *_, **__: errors.raise_if_interrupted())
    config = config_from_args(config_cls, args, fixed)
    # No progress bar when stdout is not a terminal; step lines there only for an explicit --log-every (`logs`).
    _print_losses(train(config, o.out, resume=o.resume, overwrite=o.overwrite, verbose=logs.fit_verbosity(),
                        callbacks=[*logs.step_progress(config.epochs, args.log_every), ctrl_c]))


def _print_losses(result) -> None:
    keys = ("g_l1_loss", "g_loss", "d_loss", "gen_loss", "cycle_a_loss", "cycle_b_loss", "d_a_loss", "d_b_loss",
            "nce_loss", "nce_identity_loss")
    print(f"Run folder: {result.run_dir}")
    for name, value in sorted((k, v) for k, v in result.metrics.items() if k.startswith("val_") or k in keys):
        print(f"  {name}: {value:.4f}" if value is not None else f"  {name}: n/a")


def _cmd_translate(o: cmd.TranslateOptions, args):
    from tfgan_translate.app.translate import translate_command

    return translate_command(o)


def _cmd_export(o: cmd.ExportOptions, args):
    from tfgan_translate.export import export_generator

    logging.getLogger("tensorflow").setLevel(logging.WARNING)  # no "Assets written to" lines
    both = not (o.saved_model or o.tflite)  # neither flag: both (--web: the .tflite)
    return export_generator(o.run, o.web or o.out, direction=o.direction,
                            saved_model=o.saved_model or (both and not o.web), tflite=o.tflite or both or bool(o.web),
                            quantize=list(o.quantize), test_dropout=o.test_dropout, test_batch_norm=o.test_batch_norm,
                            representative_data=o.representative_data, representative_count=o.representative_count,
                            image_size=o.image_size, dynamic_size=o.dynamic_size, subpixel=not o.keep_transpose_conv,
                            benchmark=o.benchmark, web=bool(o.web), web_runtime=o.web_runtime)


def _cmd_evaluate(o: cmd.EvaluateOptions, args):
    from tfgan_translate.evaluation import evaluate_folders, evaluate_run

    common = dict(json_path=o.json, report_dir=o.report, grid_rows=o.grid_rows, kid=o.kid, fid=o.fid,
                  feature_weights=o.feature_weights, kid_subsets=o.kid_subsets, kid_subset_size=o.kid_subset_size,
                  skip_bad_files=o.skip_bad_files)
    if o.pred:
        return evaluate_folders(o.pred, o.truth, channels=o.channels, **common)
    return evaluate_run(o.checkpoint or o.model, o.data, kind="checkpoint" if o.checkpoint else "model",
                        split=o.split, size=o.size, fit=o.fit, test_dropout=o.test_dropout,
                        test_batch_norm=o.test_batch_norm, **common)


def _cmd_import(o: cmd.ImportOptions, args):
    from tfgan_translate.reference import import_reference

    return import_reference(o.source or o.pretrained, o.out, epoch=o.epoch, overwrite=o.overwrite, **o.architecture())


def _cmd_datasets_synth(o: cmd.SynthOptions, args):
    from tfgan_translate.data import write_synthetic_dataset

    path = write_synthetic_dataset(o.out, n_train=o.n_train, n_test=o.n_test, size=o.size, seed=o.seed)
    print(f"Synthetic facades (label map | photo) written to {path}")


def _cmd_demo(o: cmd.DemoOptions, args):
    from tfgan_translate.data import write_synthetic_dataset
    from tfgan_translate.inference import translate_files
    from tfgan_translate.training.run import train

    out = Path(o.out)
    config = o.run_config(write_synthetic_dataset(out / "data", n_train=o.n_train, n_test=8, size=64, seed=0))
    print(f"Training pix2pix on the built-in synthetic facades: {config.epochs} epochs at 64x64 ...")
    result = train(config, out / "run", overwrite=True, verbose=logs.fit_verbosity())  # replaces its earlier run
    written = translate_files(result.model.generator, Path(config.data) / "test", out / "translated", aligned=True,
                              direction=config.direction)
    _print_losses(result)
    samples = sorted((out / "run" / "samples").glob("*.png"))
    print(f"Sample grid (input | output | target): {samples[-1] if samples else 'none'}")
    print(f"Translated {len(written)} held-out label maps into {out / 'translated'}")
    print(f"TensorBoard: tensorboard --logdir {out / 'run' / 'logs'}")


# ------------------------------------------------------------------ the parser and the error boundary
# A subcommand: its words, the dataclasses holding its flags (the first is built and passed to the function
# with the parsed arguments; the last gives the help texts), and its function.
# `train NAME`: the run config of each name and the fields the name sets (FastCUT is CUT's other preset).
TRAIN_MODELS = {**{name: (config_cls, {}) for name, config_cls in cfg.CONFIG_CLASSES.items()},
                "cut": (cfg.CUTConfig, {"mode": "cut"}), "fastcut": (cfg.CUTConfig, {"mode": "fastcut"})}
COMMANDS = (
    *((("train", name), (cmd.TrainOptions, config_cls), _cmd_train) for name, (config_cls, _) in TRAIN_MODELS.items()),
    (("translate",), (cmd.TranslateOptions,), _cmd_translate),
    (("export",), (cmd.ExportOptions,), _cmd_export),
    (("evaluate",), (cmd.EvaluateOptions,), _cmd_evaluate),
    (("import",), (cmd.ImportOptions,), _cmd_import),
    (("datasets", "synth"), (cmd.SynthOptions,), _cmd_datasets_synth),
    (("demo",), (cmd.DemoOptions,), _cmd_demo),
)
# Commands with subcommands: their help, description and the name of what they choose.
GROUPS = {"train": ("train a model", "Train pix2pix, CycleGAN, CUT or FastCUT.", "model"),
          "datasets": ("prepare datasets", "Prepare datasets.", "dataset")}


def build_parser() -> argparse.ArgumentParser:
    """The `tfgan-translate` parser, one subparser per row of `COMMANDS`."""
    parser = argparse.ArgumentParser(prog="tfgan-translate", description="Image-to-image translation with GANs.",
                                     epilog=errors.epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    parser.add_argument("--debug", action="store_true",
                        help="on a failure, show the traceback too; keep TensorFlow's own log output")
    subparsers = {(): parser.add_subparsers(dest="command", required=True, metavar="COMMAND")}
    for words, classes, run in COMMANDS:
        if words[:-1] not in subparsers:
            help_text, description, dest = GROUPS[words[0]]
            group = subparsers[()].add_parser(words[0], help=help_text, description=description)
            subparsers[words[:-1]] = group.add_subparsers(dest=dest, required=True, metavar=dest.upper())
        sub = subparsers[words[:-1]].add_parser(words[-1], help=classes[-1].cli_help,
                                                description=classes[-1].cli_description)
        for options_cls in classes:
            add_flags(sub, options_cls)
        sub.set_defaults(func=run, options_cls=classes[0], _command=words[0], _parser=sub)
    return parser


def main(argv=None) -> int:
    """Runs `tfgan-translate ARGV...`; returns its exit code (`errors.EXIT_CODES`: 2 bad input, 3 diverged,
    4 permission/disk, 130 Ctrl-C, 1 a bug), each failure one line on stderr (`--debug`: with the traceback)."""
    args = build_parser().parse_args(argv)
    debug = errors.debug_requested(args.debug)

    def run() -> int:
        logs.setup(quiet=args.quiet, debug=debug)
        result = args.func(args.options_cls(**_given(args.options_cls, args)), args)
        if result is not None:  # a result that sums itself up: the command prints that
            print(result.summary())
        return 0

    return errors.guarded(run, debug=debug, paths=errors.path_arguments(args._parser, args), command=args._command)


if __name__ == "__main__":
    sys.exit(main())
