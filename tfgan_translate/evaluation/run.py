"""Evaluating a trained run or an export: translate a paired data set's split, then score it.

`evaluate_run(source, data)` is `tfgan-translate evaluate --checkpoint RUN_DIR --data DIR` (or `--model
EXPORT`) as a function: it checks the output paths, opens the run (its generator, size rule, channels and
direction) or the export (its metadata.json), checks every file of the `split` of `data` before the first is
translated (`pairing.readable_pairs`), translates it into OUT/input/, OUT/pred/ and OUT/truth/ (the inputs, the
translations and the targets, as <name>.png), scores the translations against the targets with
`evaluate_folders`, and writes the JSON and the report on request. A run's generator runs in the test-time mode
asked for (`test_dropout`, `test_batch_norm`), else the run's (`choices.InferenceMode`); an export as it was
exported (asking for another mode is refused).

Example:

>>> result = evaluate_run("runs/facades", "datasets/facades", report_dir="reports/facades")  # doctest: +SKIP
>>> result.mean["l1"], result.info["direction"]  # doctest: +SKIP
(0.31, 'BtoA')
"""

from __future__ import annotations

import logging
import tempfile
import typing
from pathlib import Path

from tfgan_translate.choices import FITS, InferenceMode, check_choice
from tfgan_translate.data.files import list_images, save_image
from tfgan_translate.evaluation.evaluate import evaluate_folders, feature_extractor
from tfgan_translate.evaluation.pairing import loaded_pairs, match_files, readable_pairs, resize_to
from tfgan_translate.evaluation.report import check_output_paths
from tfgan_translate.evaluation.result import EvaluationResult

log = logging.getLogger("tfgan_translate")

SourceKind = typing.Literal["auto", "checkpoint", "model"]  # what `evaluate_run`'s source is


def source_kind(source: str | Path) -> str:
    """"model" for an export (a .tflite file, a folder with saved_model.pb or saved_model/), else "checkpoint"."""
    path = Path(source)
    is_export = (path.suffix == ".tflite" or (path / "saved_model.pb").is_file()
                 or (path / "saved_model" / "saved_model.pb").is_file())
    return "model" if is_export else "checkpoint"


def _run_translator(checkpoint: str | Path, fit: str, test_dropout, test_batch_norm, seed) -> tuple:
    """(translate, input domain "A" or "B", input channels, output channels, info for the result, the test-time
    `InferenceMode`) of a run."""
    from tfgan_translate.inference import generator_for, translate_array
    from tfgan_translate.inference_mode import inference_generator
    from tfgan_translate.training.run import load_run

    config, model = load_run(checkpoint)
    if config is None:
        raise ValueError("Invalid value for `--checkpoint`: evaluate needs a run folder (with config.json) for the "
                         "generator's direction, size rule and channels.")
    mode = InferenceMode.of(config, test_dropout, test_batch_norm)
    generator = inference_generator(generator_for(model, None, config.direction), mode.dropout, mode.batch_norm,
                                    seed=seed)  # made once: the same copy (and compiled call) for every image
    return (lambda image: translate_array(generator, image, fit=fit), "A" if config.direction == "AtoB" else "B",
            config.input_channels, config.output_channels,
            {"checkpoint": str(checkpoint), "direction": config.direction}, mode)


def _export_translator(model: str | Path, fit: str, test_dropout, test_batch_norm, seed) -> tuple:
    """As `_run_translator`, for an export (whose mode is None when its metadata does not say)."""
    from tfgan_translate.export import load_export

    exported = load_export(model)
    exported.check_inference_mode(test_dropout, test_batch_norm)
    if seed is not None:
        raise ValueError(f"Invalid value for argument `seed`. Received: seed={seed!r}. Expected None for an export: "
                         "its test-time dropout draws fresh noise.")
    return (lambda image: exported.translate_array(image, fit=fit), exported.input_domain, exported.input_channels,
            exported.output_channels or 3, {"model": str(model)}, exported.inference_mode)


def evaluate_run(source: str | Path, data: str | Path, *, split: str = "test", size: int | None = None,
                 fit: str = "pad", report_dir: str | Path | None = None, json_path: str | Path | None = None,
                 grid_rows: int = 8, kind: SourceKind = "auto", kid: bool = False, fid: bool = False,
                 feature_weights="imagenet", extractor=None, skip_bad_files: bool = False,
                 test_dropout: str | None = None, test_batch_norm: str | None = None, seed: int | None = None,
                 **kwargs) -> EvaluationResult:
    """Translates the `split` of a paired data set with a run (or an export) and scores the translations.

    Args:
        source: str or Path. A run folder written by `train` (config.json + checkpoints/), or an export
            written by `export` (a .tflite file, or the export or saved_model/ folder).
        data: str or Path. A paired data set (aligned A|B files, or A/ + B/ folders). The run's direction
            decides which side is the input; the other side is the truth.
        split: str. The split to translate; "test" falls back to "val". Defaults to "test".
        size: int or None. Resize inputs and truths to size x size first (e.g. the training size).
            Defaults to None (the files' size).
        fit: "pad" or "resize". How images meet the generator's size rule, as `translate`. Defaults to "pad".
        report_dir: str, Path or None. Keep the translations there (input/, pred/, truth/) and write
            report.md, metrics.json and samples.png; None translates into a temporary folder. A new or empty
            folder, or an earlier report (only the pairs translated now are scored). Defaults to None.
        json_path: str, Path or None. Also write the figures as JSON there: a new file or an earlier
            evaluation's JSON. Defaults to None.
        grid_rows: int. Rows of the report's sample grid. Defaults to 8.
        kind: "auto", "checkpoint" or "model". What `source` is; "auto" decides by its files
            (`source_kind`). Defaults to "auto".
        kid, fid, feature_weights, extractor: KID/FID, as `evaluate_pairs`. The feature extractor is made
            before anything is translated, so missing Inception weights fail fast.
        skip_bad_files: bool. Leave out the pairs of the split with an unreadable file (listed in
            ``info["skipped"]``, the JSON, the report and the summary) instead of stopping at the first.
            Every file is checked before the first is translated either way. Defaults to False.
        test_dropout: "on", "off" or None. A run's dropout at test time (`choices.InferenceMode`); None: the
            run's `test_dropout`. An export runs as it was exported: another value is refused. Defaults to None.
        test_batch_norm: "image", "moving" or None. A run's batch norm on each image's own statistics or the
            moving ones; None: the run's `test_batch_norm`. An export, as `test_dropout`. Defaults to None.
        seed: int or None. A run's test-time dropout masks repeatable (`inference_mode.InferenceDropout`), so two
            evaluations agree; None: fresh noise. Defaults to None.
        **kwargs: forwarded to `evaluate_pairs` (kid_subsets, kid_subset_size, feature_batch, seed).

    Returns:
        EvaluationResult; `info` names the source, the run's direction (for a run), the test-time mode, data,
        split and size.

    Raises:
        FileNotFoundError: `source` or `data` is missing, or the run has no checkpoint.
        ValueError: an invalid argument, a .keras file without its run folder, an empty split, a `json_path`
            or `report_dir` that cannot be written or holds the user's files (checked first).
        DataError: an unreadable image in the split without `skip_bad_files` (named, with the flag to pass).
        FeatureWeightsUnavailable: KID/FID with "imagenet" weights that are neither cached nor downloadable.

    Example:

    >>> result = evaluate_run("runs/facades", "datasets/facades", size=256, fit="resize")  # doctest: +SKIP
    >>> print(result.summary())  # doctest: +SKIP
    Evaluated 106 image pair(s): L1 0.3121  PSNR 12.87 dB  SSIM 0.2617  sharpness 0.811
    """
    check_choice("fit", fit, FITS)
    check_choice("kind", kind, typing.get_args(SourceKind))
    InferenceMode.of(None, test_dropout, test_batch_norm)  # valid values, before any work
    check_output_paths(json_path, report_dir, translations=True)  # before any work
    extractor = feature_extractor(kid, fid, feature_weights, extractor)  # before translating: fail fast
    kind = source_kind(source) if kind == "auto" else kind
    translator = _run_translator if kind == "checkpoint" else _export_translator
    translate, domain, input_channels, output_channels, info, mode = translator(source, fit, test_dropout,
                                                                                test_batch_norm, seed)
    if mode is not None:  # the test-time mode the translations were made in
        info.update(test_dropout=mode.dropout, test_batch_norm=mode.batch_norm)
    from tfgan_translate.data.paired import resolve_paired_split

    where = resolve_paired_split(data, split)
    aligned = where.layout == "aligned"  # one A|B file a pair: its halves are the input and the truth
    if aligned:
        pairs = [(path.stem, path, path) for path in list_images(where.folder_a)]
    else:
        pairs = match_files(*((where.folder_a, where.folder_b) if domain == "A" else (where.folder_b, where.folder_a)))
    pairs, skipped = readable_pairs(pairs, skip_bad_files)  # every file checked before the first is translated
    with tempfile.TemporaryDirectory(prefix="tfgan-evaluate-") as scratch:
        out = Path(report_dir) if report_dir else Path(scratch)
        for name, image, truth in loaded_pairs(pairs, (input_channels, output_channels), skip_bad_files, skipped):
            if aligned:  # the input's half of the A|B file, and the truth's
                half, (a, b) = image.shape[1] // 2, ((0, 1) if domain == "A" else (1, 0))
                image, truth = image[:, a * half:(a + 1) * half], truth[:, b * half:(b + 1) * half]
            if size is not None:
                image, truth = resize_to(image, size, size), resize_to(truth, size, size)
            save_image(image, out / "input" / f"{name}.png")
            save_image(translate(image), out / "pred" / f"{name}.png")
            save_image(truth, out / "truth" / f"{name}.png")
        log.info("Translated the %s split of %s into %s", split, data, out / "pred")
        translated = {pair[0] for pair in pairs} - {row["name"] for row in skipped}
        return evaluate_folders(out / "pred", out / "truth", channels=output_channels, kid=kid, fid=fid,
                                extractor=extractor, json_path=json_path, report_dir=report_dir, grid_rows=grid_rows,
                                input_dir=out / "input", names=translated, **kwargs,
                                info={**info, "data": str(data), "split": split, "size": size, "skipped": skipped})
