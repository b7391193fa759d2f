"""`tfgan-translate translate`: the command's options to one library call, with its checks in the right order."""

from __future__ import annotations

from pathlib import Path

from tfgan_translate.inference import Translated, generator_for, translate_files
from tfgan_translate.output_plan import plan_outputs


def translate_command(o) -> Translated:
    """`tfgan-translate translate`: a run's generator (`--checkpoint`) or an export (`--model`) over the input.

    A run's generator runs in the test-time mode of `--test-dropout` / `--test-batch-norm`, else the run's
    (`choices.InferenceMode`); an export as it was exported (asking for another mode is refused).

    The input and output are checked (`plan_outputs`) before the model is loaded, so a refused output folder
    or a bad image fails at once; `--memory-budget` refuses an image too large to decode there already (by
    its header, on one channel, the least it can take), then on the generator's input channels once the
    model is loaded: still before any output is written.

    Args:
        o: `command_options.TranslateOptions`.

    Returns:
        `Translated` (its `summary()` is what the command prints).

    Raises:
        ValueError: a `--direction` the model cannot translate, a `--checkpoint` without its run folder, a
            test-time mode an export was not exported with, and the errors of `translate_paths`.

    Example:

    >>> translate_command(TranslateOptions(checkpoint="runs/facades", input="in/", output="out/"))  # doctest: +SKIP
    """
    from tfgan_translate.export import load_export, translate_files_with_export
    from tfgan_translate.training.run import load_run

    source, load = (o.model, load_export) if o.model is not None else (o.checkpoint, load_run)
    if not Path(source).exists():
        load(source)  # raises the loader's own message ("... does not exist. Expected ...") at once
    plan_outputs(o.input, o.output, skip_bad_files=o.skip_bad_files, overwrite=o.overwrite,  # before loading
                 memory_budget=o.memory_budget)
    common = dict(fit=o.fit, aligned=o.aligned, tile=o.tile, overlap=o.overlap, skip_bad_files=o.skip_bad_files,
                  overwrite=o.overwrite, memory_budget=o.memory_budget)
    if o.model is not None:  # an export: its metadata.json gives channels, size rule and direction
        model = load_export(o.model)
        exported = (model.metadata or {}).get("model", {}).get("direction")
        if o.direction is not None and exported is not None and o.direction != exported:
            raise ValueError(f"Invalid value for `--direction`: {o.direction}. {o.model} translates {exported}; "
                             "export the other direction (`tfgan-translate export RUN --direction ...`) to use it.")
        model.check_inference_mode(o.test_dropout, o.test_batch_norm)
        return translate_files_with_export(model, o.input, o.output, **common)
    config, model = load_run(o.checkpoint)
    if config is None:
        raise ValueError("Invalid value for `--checkpoint`: translate needs a run folder (with config.json) "
                         "to know the run's direction.")
    direction = o.direction or config.direction
    # The test-time mode: as asked, else the run's (`load_run` records it on the run's generators).
    return translate_files(generator_for(model, direction, config.direction), o.input, o.output, direction=direction,
                           test_dropout=o.test_dropout, test_batch_norm=o.test_batch_norm, **common)
