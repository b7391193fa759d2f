"""Writing an evaluation: JSON, a Markdown summary and a sample grid (input | pred | truth).

    REPORT_DIR/
      metrics.json   `EvaluationResult.to_dict()`
      report.md      the means (and KID/FID), units, the grid, a per-image table
      samples.png    the first rows of the set: [input |] pred | truth
      input/, pred/, truth/   with `evaluate_run`: the translations and their targets

Nothing of the user's is replaced: `check_output_paths`, called before any image is read, accepts for
the JSON a new file or an earlier evaluation's, and for the report a new or empty folder or an earlier
report (its metrics.json is an evaluation's).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tfgan_translate import io
from tfgan_translate.data.files import image_grid, list_images, load_image, save_image
from tfgan_translate.evaluation.result import UNITS, EvaluationResult, describe_skipped

REPORT_FILES = ("report.md", "metrics.json", "samples.png")
TRANSLATION_FOLDERS = ("input", "pred", "truth")  # what `evaluate_run` adds to a report folder


def write_json(result: EvaluationResult | dict, path: str | Path) -> Path:
    """Writes the result as indented JSON (non-finite numbers as null, `io.write_json`), atomically.

    Example:

    >>> write_json(evaluate_folders("out/pred", "out/truth"), "out/metrics.json")  # doctest: +SKIP
    PosixPath('out/metrics.json')
    """
    return io.write_json(path, result.to_dict() if isinstance(result, EvaluationResult) else result)


def is_evaluation_json(path: str | Path) -> bool:
    """Whether `path` is a JSON file written by `write_json` (an object with "mean" and "per_image")."""
    path = Path(path)
    try:
        if not path.is_file() or path.stat().st_size > 1 << 30:
            return False
        document = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(document, dict) and "mean" in document and "per_image" in document


def check_output_paths(json_path: str | Path | None = None, report_dir: str | Path | None = None, *,
                       translations: bool = False) -> None:
    """Refuses, before any work, a JSON path or report folder that cannot be written or holds the user's files.

    Args:
        json_path: str, Path or None. `--json`: must be a new file, or an earlier evaluation's JSON
            (`is_evaluation_json`) to replace, in an existing folder or a creatable one.
        report_dir: str, Path or None. `--report`: must be a new or empty folder, a folder holding none of the
            report's names (report.md, metrics.json, samples.png, and with `translations` input/, pred/,
            truth/), or an earlier report (its metrics.json is an evaluation's).
        translations: bool. The report folder also receives input/, pred/ and truth/ (`evaluate_run`).
            Defaults to False.

    Raises:
        ValueError: naming the argument and its flag, the path received and what is expected.

    Example:

    >>> check_output_paths("eval/", None)  # doctest: +SKIP
    ValueError: Invalid value for `json_path` (--json): eval is a folder. Expected the path of a JSON file ...
    """
    if json_path is not None:
        path, where = Path(json_path), "Invalid value for `json_path` (--json): "
        if path.is_dir():
            raise ValueError(f"{where}{path} is a folder. Expected the path of a JSON file to write, e.g. "
                             f"{path / 'eval.json'}.")
        _check_parent(path, where, "a JSON file path in a folder")
        if (path.exists() or path.is_symlink()) and not is_evaluation_json(path):
            raise ValueError(f"{where}{path} exists and is not an evaluation's JSON. Expected a new file or an "
                             "earlier evaluation's JSON to replace: choose another path, or move that file.")
    if report_dir is not None:
        folder, where = Path(report_dir), "Invalid value for `report_dir` (--report): "
        if folder.exists() and not folder.is_dir():
            raise ValueError(f"{where}{folder} is a file. Expected a folder (new, empty or an earlier report) "
                             f"to write {', '.join(REPORT_FILES)} into.")
        _check_parent(folder, where, "a folder path")
        names = REPORT_FILES + (TRANSLATION_FOLDERS if translations else ())
        clashes = [name for name in names if folder.is_dir() and (folder / name).exists()]
        if clashes and not is_evaluation_json(folder / "metrics.json"):
            raise ValueError(f"{where}{folder} holds {', '.join(clashes)} but is not an earlier report (no "
                             "metrics.json of an evaluation). Expected a new or empty folder, or an earlier "
                             "report folder: choose another folder.")


def _check_parent(path: Path, where: str, expected: str) -> None:
    """ValueError when the nearest existing parent of `path` is a file (nothing can be created under it)."""
    nearest = next((parent for parent in path.parents if parent.exists()), None)
    if nearest is not None and not nearest.is_dir():
        raise ValueError(f"{where}{path}: {nearest} is a file, not a folder. Expected {expected}.")


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|")


def write_report(result: EvaluationResult, report_dir: str | Path, *, pred_dir: str | Path, truth_dir: str | Path,
                 input_dir: str | Path | None = None, rows: int = 8) -> Path:
    """Writes REPORT_DIR/metrics.json, REPORT_DIR/samples.png and REPORT_DIR/report.md.

    Args:
        result: from `evaluate_folders`.
        report_dir: str or Path. Created if missing.
        pred_dir, truth_dir: folders the result was computed on (for the grid).
        input_dir: folder of the inputs, matched by name, for a first grid
            column. Defaults to None.
        rows: int. Grid rows: the first `rows` names (128 x 128 pixels a cell). Defaults to 8.

    Returns:
        The path of report.md.
    """
    report_dir = Path(report_dir)
    write_json(result, report_dir / "metrics.json")  # creates the folder

    def by_name(folder):  # the result's names are the files' names without extension
        return {path.stem: path for path in list_images(folder)}

    preds, truths = by_name(pred_dir), by_name(truth_dir)
    inputs = by_name(input_dir) if input_dir is not None and Path(input_dir).is_dir() else {}
    labels = (["input"] if inputs else []) + ["pred", "truth"]
    names = [row["name"] for row in result.per_image][:max(0, rows)]
    columns = [[load_image(files[name], 3) for name in names] for files in (preds, truths)]  # shown as RGB
    if inputs:  # a white cell for a name without an input
        columns.insert(0, [load_image(inputs[name], 3) if name in inputs else np.ones_like(truth)
                           for name, truth in zip(names, columns[1], strict=True)])
    if names:
        save_image(io.from_uint8(image_grid(columns, labels, cell=128)), report_dir / "samples.png")

    lines = ["# Evaluation", ""]
    lines += [f"- {key}: `{result.info[key]}`" for key in ("pred", "truth", "checkpoint", "model", "data",
                                                           "test_dropout", "test_batch_norm") if key in result.info]
    lines.append(f"- images: {len(result.per_image)}")
    if result.info.get("resized"):
        lines.append(f"- predictions resized to their truth's size: {len(result.info['resized'])}")
    if result.info.get("skipped"):
        lines.append(f"- skipped: {describe_skipped(result.info['skipped'], limit=20)}")
    lines += ["", "| metric | mean | meaning |", "|---|---|---|"]
    for key in ("l1", "psnr", "ssim", "sharpness"):
        lines.append(f"| {key} | {result.mean[key]:.{2 if key == 'psnr' else 4}f} | {_cell(UNITS[key])} |")
    if (kid := result.kid) is not None:
        lines.append(f"| kid | {kid['mean']:.5f} +- {kid['std']:.5f} | {_cell(UNITS['kid'])} "
                     f"({kid['subsets']} subsets of {kid['subset_size']}) |")
    if result.fid is not None:
        lines.append(f"| fid | {result.fid:.3f} | {_cell(UNITS['fid'])} |")
    if "feature_weights" in result.info:
        lines += ["", f"KID/FID features: Inception-v3 weights `{result.info['feature_weights']}`."]
    if names:
        lines += ["", f"First {len(names)} images ({' | '.join(labels)}):", "", "![samples](samples.png)"]
    lines += ["", "## Per image", "", "| name | l1 | psnr | ssim | sharpness |", "|---|---|---|---|---|"]
    for row in result.per_image:
        lines.append(f"| {row['name']} | {row['l1']:.4f} | {row['psnr']:.2f} | {row['ssim']:.4f} | "
                     f"{row['sharpness']:.3f} |")
    return io.write_text(report_dir / "report.md", "\n".join(lines) + "\n")
