"""Evaluating translations against ground truth: folders, arrays, or a model run on a test split.

`evaluate_folders(pred_dir, truth_dir)` pairs files by name without extension
(``pred/12.png`` with ``truth/12.jpg``; any unmatched name is an error listing
them), reads both at `channels`, resizes a prediction whose size differs from
its target's to the target's size (bicubic with antialiasing, clipped; such
names are listed in ``info["resized"]``), and computes per image and on average
the paired metrics of `metrics.py` (L1, PSNR, SSIM, sharpness), plus KID and
FID between the two sets on request (`distribution.py`, features from
`features.py`).

`translate_split` first translates a paired data set's test split (with a run's
generator or an export) into ``OUT/pred/``, writing the matching targets to
``OUT/truth/`` and the inputs to ``OUT/input/``, ready for `evaluate_folders`.

Unreadable images: every file is checked before the first is scored or
translated. Without `skip_bad_files` the first bad one stops the evaluation
with its name and the reason (and the flag to pass); with it, the pairs holding
one are left out and listed in ``info["skipped"]`` ({"name", "file",
"reason"}), which the JSON, the report and the summary show.

Example:

>>> result = evaluate_folders("translated/", "photos/", kid=True,
...                           feature_weights="inception_notop.h5")  # doctest: +SKIP
>>> result.mean["l1"], result.kid["mean"]  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from tfgan_translate.data.files import DataError, check_images, list_images, load_image, save_image
from tfgan_translate.evaluation.distribution import fid_from_features, kid_from_features
from tfgan_translate.evaluation.metrics import PAIRED_METRICS, PSNR_CAP_DB, paired_metrics

log = logging.getLogger("tfgan_translate")

UNITS = {
    "l1": "mean |pred - truth| with pixels in [-1, 1] (x127.5 for 8-bit levels); lower is better",
    "psnr": f"dB on pixels in [0, 1], identical images capped at {PSNR_CAP_DB:g}; higher is better",
    "ssim": "structural similarity (11x11 Gaussian window) on pixels in [0, 1]; 1 is identical",
    "sharpness": "mean squared Laplacian of pred / that of truth; ~1 realistic detail, <1 blur, >1 noise",
    "kid": "unbiased MMD^2, cubic polynomial kernel, Inception-v3 pool features; mean and std over subsets",
    "fid": "Frechet distance of Gaussians fitted to Inception-v3 pool features (biased for small sets)",
}


@dataclasses.dataclass
class EvaluationResult:
    """What an evaluation measured.

    Attributes:
        per_image: one dict per pair, in name order: {"name", "l1", "psnr", "ssim", "sharpness"}.
        mean: the mean of each paired metric over the images.
        kid: {"mean", "std", "subsets", "subset_size"}, or None when not asked for.
        fid: float, or None when not asked for.
        info: where the images came from, their count, names resized, feature weights.
    """

    per_image: list[dict]
    mean: dict[str, float]
    kid: dict | None = None
    fid: float | None = None
    info: dict = dataclasses.field(default_factory=dict)
    written: dict[str, Path] = dataclasses.field(default_factory=dict)  # "json", "report": files written

    def summary(self) -> str:
        """The figures in a few lines of text (what `tfgan-translate evaluate` prints).

        Example:

        >>> print(EvaluationResult([{}], {"l1": 0.5, "psnr": 12.0, "ssim": 0.25, "sharpness": 0.8}).summary())
        Evaluated 1 image pair(s): L1 0.5000  PSNR 12.00 dB  SSIM 0.2500  sharpness 0.800
        """
        mean = self.mean
        lines = [f"Evaluated {len(self.per_image)} image pair(s): L1 {mean['l1']:.4f}  PSNR {mean['psnr']:.2f} dB  "
                 f"SSIM {mean['ssim']:.4f}  sharpness {mean['sharpness']:.3f}"]
        if self.info.get("resized"):
            lines.append(f"  {len(self.info['resized'])} prediction(s) resized to their truth's size")
        if self.info.get("skipped"):
            lines.append(f"  Skipped {describe_skipped(self.info['skipped'])}")
        if self.kid is not None:
            lines.append(f"  KID {self.kid['mean']:.5f} +- {self.kid['std']:.5f}")
        if self.fid is not None:
            lines.append(f"  FID {self.fid:.3f}")
        lines += [f"{label}: {self.written[key]}" for key, label in (("json", "JSON"), ("report", "Report"))
                  if key in self.written]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """A JSON-ready dict: info, count, mean, kid/fid when computed, units, per_image."""
        out = {**self.info, "count": len(self.per_image), "mean": dict(self.mean)}
        if "skipped" in self.info:
            out["skipped_count"] = len(self.info["skipped"])
        if self.kid is not None:
            out["kid"] = dict(self.kid)
        if self.fid is not None:
            out["fid"] = self.fid
        out["units"] = {k: v for k, v in UNITS.items()
                        if k in PAIRED_METRICS or (k == "kid" and self.kid) or (k == "fid" and self.fid is not None)}
        out["per_image"] = [dict(row) for row in self.per_image]
        return out


# ----------------------------------------------------------------------------- pairing


def _by_stem(folder: Path, role: str) -> dict[str, Path]:
    found: dict[str, list[Path]] = {}
    for path in list_images(folder):
        found.setdefault(path.stem, []).append(path)
    clashes = {stem: paths for stem, paths in found.items() if len(paths) > 1}
    if clashes:
        stem, paths = next(iter(clashes.items()))
        raise DataError(f"Several {role} files in {folder} are named {stem!r} ({', '.join(p.name for p in paths)}); "
                        "files are matched by name without extension.")
    return {stem: paths[0] for stem, paths in found.items()}


def match_files(pred_dir: str | Path, truth_dir: str | Path) -> list[tuple[str, Path, Path]]:
    """Pairs the images of two folders by file name without extension, in natural name order.

    Args:
        pred_dir: str or Path. Folder of translated images.
        truth_dir: str or Path. Folder of ground-truth images.

    Returns:
        [(name, pred_path, truth_path), ...].

    Raises:
        DataError: a folder is missing or empty, two files share a name, or a
            name appears in one folder only (the message lists them).
    """
    preds, truths = _by_stem(Path(pred_dir), "prediction"), _by_stem(Path(truth_dir), "truth")
    only_pred = [name for name in preds if name not in truths]
    only_truth = [name for name in truths if name not in preds]
    if only_pred or only_truth:
        def listing(names):
            return ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")

        parts = []
        if only_pred:
            parts.append(f"{len(only_pred)} in {pred_dir} without a truth image: {listing(only_pred)}")
        if only_truth:
            parts.append(f"{len(only_truth)} in {truth_dir} without a prediction: {listing(only_truth)}")
        raise DataError(f"Unmatched file names ({'; '.join(parts)}). Predictions and truth images are "
                        "matched by file name without extension.")
    return [(name, path, truths[name]) for name, path in preds.items()]  # list_images order: natural


def resize_to(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """(H, W, C) in [-1, 1] resized to (height, width) with bicubic antialiased resampling, clipped to [-1, 1]."""
    import tensorflow as tf

    if image.shape[:2] == (height, width):
        return image
    resized = tf.image.resize(image, (height, width), method="bicubic", antialias=True)
    return np.clip(resized.numpy(), -1.0, 1.0)


# ----------------------------------------------------------------------------- unreadable images

SKIP_ADVICE = "Pass --skip-bad-files (skip_bad_files=True from Python) to skip and count unreadable images."


def describe_skipped(skipped: Sequence[dict], limit: int = 5) -> str:
    """'N unreadable image(s) (--skip-bad-files): FILE (reason); ...' for ``info["skipped"]``."""
    listed = "; ".join(f"{row['file']} ({row['reason']})" for row in skipped[:limit])
    more = f"; and {len(skipped) - limit} more" if len(skipped) > limit else ""
    return f"{len(skipped)} unreadable image(s) (--skip-bad-files): {listed}{more}"


def readable_pairs(pairs: Sequence[tuple], skip_bad_files: bool) -> tuple[list[tuple], list[dict]]:
    """Checks every file of `pairs` before any is used; keeps the pairs whose files all read.

    Args:
        pairs: sequence of (name, file, file, ...) tuples (the same file may appear twice, e.g. an
            aligned A|B file that is both input and truth).
        skip_bad_files: bool. Leave out the pairs holding an unreadable file instead of raising.

    Returns:
        (the good pairs in their order, [{"name", "file", "reason"}, ...] for each bad file).

    Raises:
        DataError: without `skip_bad_files`, naming the first bad file, the reason, how many are bad and
            the flag to pass.
    """
    files = list(dict.fromkeys(path for pair in pairs for path in pair[1:]))
    _, bad = check_images(files, aligned=False, skip_bad=True, min_size=0)  # load_image's checks, cached
    reasons = dict(bad)
    if reasons and not skip_bad_files:
        path, reason = bad[0]
        count = f" ({len(bad)} unreadable images in all)" if len(bad) > 1 else ""
        raise DataError(f"{path}: {reason}{count}. {SKIP_ADVICE}")
    good, skipped = [], []
    for pair in pairs:
        problems = [path for path in dict.fromkeys(pair[1:]) if path in reasons]
        skipped += [{"name": pair[0], "file": str(path), "reason": reasons[path]} for path in problems]
        if not problems:
            good.append(pair)
    if skipped:
        log.warning("Skipped %s", describe_skipped(skipped))
    if pairs and not good:
        raise DataError(f"Nothing to evaluate: every one of the {len(pairs)} pair(s) holds an unreadable image "
                        f"({describe_skipped(skipped)}).")
    return good, skipped


def _load(path: Path, channels: int) -> np.ndarray:
    """`load_image`, with TensorFlow's decoding errors (a file PIL reads but TensorFlow does not) as DataError."""
    import tensorflow as tf

    try:
        return load_image(path, channels)
    except tf.errors.OpError as error:
        raise DataError(f"{path}: TensorFlow cannot decode it ({error.message}). {SKIP_ADVICE}") from None


def _loaded(pairs: Iterable[tuple], channels: Sequence[int], skip_bad_files: bool, skipped: list[dict]):
    """Yields (name, image, ...) for each (name, file, ...) read with `channels`.

    A file that passed `readable_pairs` but fails to load (changed since, or one PIL reads and TensorFlow
    does not) raises, or with `skip_bad_files` leaves its pair out and is recorded in `skipped`.
    """
    for name, *paths in pairs:
        images = []
        for path, count in zip(paths, channels, strict=True):
            try:
                images.append(_load(path, count))
            except DataError as error:
                if not skip_bad_files:
                    raise
                skipped.append({"name": name, "file": str(path), "reason": str(error).removeprefix(f"{path}: ")})
                log.warning("Skipped %s", describe_skipped(skipped[-1:]))
                break
        else:
            yield (name, *images)


# ----------------------------------------------------------------------------- evaluating


def feature_extractor(kid: bool, fid: bool, feature_weights="imagenet", extractor=None):
    """The extractor KID/FID use: `extractor` if given, else Inception-v3 with `feature_weights`; None without KID/FID.

    Raises:
        FeatureWeightsUnavailable: "imagenet" weights neither cached nor downloadable.
    """
    if not (kid or fid):
        return None
    if extractor is not None:
        return extractor
    from tfgan_translate.evaluation.features import InceptionFeatures

    return InceptionFeatures(feature_weights)


def evaluate_pairs(
    pairs: Iterable[tuple[str, np.ndarray, np.ndarray]],
    *,
    kid: bool = False,
    fid: bool = False,
    feature_weights="imagenet",
    extractor: Callable[[Sequence[np.ndarray]], np.ndarray] | None = None,
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
    feature_batch: int = 32,
    seed: int = 0,
) -> EvaluationResult:
    """Paired metrics per image and on average, and KID/FID between the two sets on request.

    Images are consumed one pair at a time; only feature vectors are kept, so
    large sets fit in memory.

    Args:
        pairs: iterable of (name, prediction, truth); arrays (H, W, C) in
            [-1, 1]. A prediction of another size is resized to the truth's.
        kid: bool. Compute KID. Defaults to False.
        fid: bool. Compute FID. Defaults to False.
        feature_weights: "imagenet", a local .h5 path, or None (random): the
            Inception-v3 weights (see `features.py`). Defaults to "imagenet".
        extractor: callable mapping a list of (H, W, C) images in [-1, 1] to
            (n, d) features, used instead of Inception-v3. Defaults to None.
        kid_subsets: int. KID subsets. Defaults to 100.
        kid_subset_size: int. Rows per KID subset at most. Defaults to 1000.
        feature_batch: int. Images buffered per extractor call. Defaults to 32.
        seed: int. KID subset sampling. Defaults to 0.

    Returns:
        EvaluationResult.

    Raises:
        FeatureWeightsUnavailable: KID/FID with "imagenet" weights offline (raised
            before any image is read).
        ValueError: no pairs, images smaller than 11x11, or fewer than 2 for KID/FID.
    """
    features = feature_extractor(kid, fid, feature_weights, extractor)
    per_image, resized = [], []
    pending: list[tuple[np.ndarray, np.ndarray]] = []
    pred_features, truth_features = [], []

    def flush():
        if pending:
            pred_features.append(np.asarray(features([p for p, _ in pending]), np.float64))
            truth_features.append(np.asarray(features([t for _, t in pending]), np.float64))
            pending.clear()

    for name, prediction, truth in pairs:
        prediction, truth = np.asarray(prediction, np.float32), np.asarray(truth, np.float32)
        if prediction.shape[:2] != truth.shape[:2]:
            prediction = resize_to(prediction, *truth.shape[:2])
            resized.append(name)
        if prediction.shape[-1] != truth.shape[-1]:
            raise ValueError(f"{name}: the prediction has {prediction.shape[-1]} channels, the truth "
                             f"{truth.shape[-1]}; read both with the same `channels`.")
        per_image.append({"name": name, **paired_metrics(prediction, truth)})
        if features is not None:
            pending.append((prediction, truth))
            if len(pending) >= feature_batch:
                flush()
    if not per_image:
        raise ValueError("Nothing to evaluate: no (prediction, truth) pairs.")
    mean = {key: float(np.mean([row[key] for row in per_image])) for key in PAIRED_METRICS}
    result = EvaluationResult(per_image, mean, info={"resized": resized})
    if features is not None:
        flush()
        pred_f, truth_f = np.concatenate(pred_features), np.concatenate(truth_features)
        if len(pred_f) < 2:
            raise ValueError("KID and FID need at least 2 image pairs.")
        if kid:
            result.kid = kid_from_features(pred_f, truth_f, subsets=kid_subsets, subset_size=kid_subset_size,
                                           seed=seed)
        if fid:
            result.fid = fid_from_features(pred_f, truth_f)
        weights = getattr(features, "weights", "custom extractor")
        result.info["feature_weights"] = "random (plumbing test only)" if weights is None else str(weights)
        result.info["feature_dim"] = int(pred_f.shape[1])
    return result


def evaluate_arrays(predictions, truths, names: Sequence[str] | None = None, **kwargs) -> EvaluationResult:
    """`evaluate_pairs` on two equal-length sequences (or (N, H, W, C) arrays) of images in [-1, 1].

    Args:
        predictions, truths: sequences of (H, W, C) arrays.
        names: names of the pairs (default "0", "1", ...).
        **kwargs: forwarded to `evaluate_pairs` (kid, fid, feature_weights, extractor, ...).
    """
    if len(predictions) != len(truths):
        raise ValueError(f"{len(predictions)} predictions but {len(truths)} truth images; expected as many.")
    names = [str(i) for i in range(len(truths))] if names is None else list(names)
    if len(names) != len(truths):
        raise ValueError(f"{len(names)} names for {len(truths)} images.")
    return evaluate_pairs(zip(names, predictions, truths), **kwargs)


def evaluate_folders(pred_dir: str | Path, truth_dir: str | Path, *, channels: int = 3,
                     json_path: str | Path | None = None, report_dir: str | Path | None = None, grid_rows: int = 8,
                     input_dir: str | Path | None = None, info: dict | None = None, skip_bad_files: bool = False,
                     names: Iterable[str] | None = None, **kwargs) -> EvaluationResult:
    """Evaluates a folder of translations against a folder of targets, matched by file name.

    `json_path` and `report_dir` are checked first (`report.check_output_paths`), then every image file,
    so a bad output path or an unreadable image stops the evaluation before any image is scored.

    Args:
        pred_dir: str or Path. Translated images.
        truth_dir: str or Path. Ground truth; its image sizes are the reference.
        channels: int. Both are read as 1, 3 or 4 channels. Defaults to 3.
        json_path: str, Path or None. Write the figures there as JSON (`write_json`): a new file or an
            earlier evaluation's JSON. Defaults to None.
        report_dir: str, Path or None. Write report.md, metrics.json and samples.png there (`write_report`):
            a new or empty folder, or an earlier report. Defaults to None.
        grid_rows: int. Rows of the report's sample grid. Defaults to 8.
        input_dir: str, Path or None. The inputs, matched by name: a first column of the grid. Defaults to None.
        info: dict or None. Entries added to ``result.info`` (before anything is written); a "skipped" list
            there is merged with this evaluation's. Defaults to None.
        skip_bad_files: bool. Leave out (and list in ``info["skipped"]``) the pairs with an unreadable image
            instead of stopping at the first. Defaults to False.
        names: iterable of str or None. Evaluate only the pairs of these names (e.g. the ones just
            translated into folders that hold older files). Defaults to None: every pair.
        **kwargs: forwarded to `evaluate_pairs` (kid, fid, feature_weights, extractor, ...).

    Returns:
        EvaluationResult; ``info`` holds the two folders and the skipped files, ``written`` the files written.

    Raises:
        DataError: unmatched names (listed), missing folders, or an unreadable file without `skip_bad_files`
            (named, with the flag to pass).
        ValueError: a `json_path` or `report_dir` that cannot be written or would replace a file of the
            user's (before any image is read).

    Example:

    >>> evaluate_folders("runs/facades/test_out", "data/facades_photos").mean  # doctest: +SKIP
    {'l1': 0.21, 'psnr': 14.8, 'ssim': 0.31, 'sharpness': 0.93}
    """
    from tfgan_translate.evaluation.report import check_output_paths, write_json, write_report  # imports this

    check_output_paths(json_path, report_dir)
    matched = match_files(pred_dir, truth_dir)
    if names is not None:
        wanted = set(names)
        matched = [pair for pair in matched if pair[0] in wanted]
    info = dict(info or {})
    matched, skipped = readable_pairs(matched, skip_bad_files)
    skipped = [*info.pop("skipped", []), *skipped]
    result = evaluate_pairs(_loaded(matched, (channels, channels), skip_bad_files, skipped), **kwargs)
    result.info = {"pred": str(pred_dir), "truth": str(truth_dir), **result.info, "skipped": skipped, **info}
    if json_path is not None or report_dir is not None:
        if json_path is not None:
            result.written["json"] = write_json(result, json_path)
        if report_dir is not None:
            result.written["report"] = write_report(result, report_dir, pred_dir=pred_dir, truth_dir=truth_dir,
                                                    input_dir=input_dir, rows=grid_rows)
    return result


# ----------------------------------------------------------------------------- translating a test split


def _split_pairs(data: str | Path, split: str | None, input_domain: str) -> list[tuple[str, Path, Path | None, bool]]:
    """(name, input file, truth file, aligned) for each pair of a paired data set's split.

    For aligned A|B files both are the same file (input half chosen by `input_domain`).
    """
    from tfgan_translate.data.paired import resolve_paired_split

    where = resolve_paired_split(data, split)
    if where.layout == "aligned":
        return [(p.stem, p, p, True) for p in list_images(where.folder_a)]
    folders = (where.folder_a, where.folder_b) if input_domain == "A" else (where.folder_b, where.folder_a)
    matched = match_files(*folders)
    return [(name, source, target, False) for name, source, target in matched]


def _half(image: np.ndarray, domain: str) -> np.ndarray:
    half = image.shape[1] // 2
    return image[:, :half] if domain == "A" else image[:, half:2 * half]


def translate_split(
    translate: Callable[[np.ndarray], np.ndarray],
    data: str | Path,
    out_dir: str | Path,
    *,
    split: str | None = "test",
    input_domain: str = "A",
    input_channels: int = 3,
    output_channels: int = 3,
    size: int | None = None,
    skip_bad_files: bool = False,
) -> dict[str, Path]:
    """Translates a paired data set's split; writes OUT/input/, OUT/pred/ and OUT/truth/ as <stem>.png.

    Every file of the split is checked before the first is translated (`readable_pairs`).

    Args:
        translate: callable (H, W, input_channels) in [-1, 1] -> (H, W, C) in [-1, 1]
            (e.g. `inference.translate_array` bound to a generator, or an
            export's `translate_array`).
        data: str or Path. The data set: aligned A|B files or A/ + B/ folders
            (the layouts `paired_dataset` reads).
        out_dir: str or Path. Created if missing.
        split: str or None. "test" (falls back to "val"). Defaults to "test".
        input_domain: "A" or "B": the side the generator takes (the run's
            direction: "A" for AtoB); the other side is the truth.
        input_channels, output_channels: int. Channels the inputs and the truth are read with.
        size: int or None. Resize inputs and truths to size x size (bicubic)
            first, e.g. the training size; None keeps the files' size.
        skip_bad_files: bool. Leave out the pairs with an unreadable file (logged) instead of raising.
            Defaults to False.

    Returns:
        {"input": Path, "pred": Path, "truth": Path}.

    Raises:
        DataError: an unreadable file without `skip_bad_files` (named, with the flag to pass), or a split
            that is missing or empty.
    """
    if input_domain not in ("A", "B"):
        raise ValueError(f"Invalid value for argument `input_domain`. Received: input_domain={input_domain!r}. "
                         "Expected 'A' or 'B'.")
    pairs, skipped = split_pairs(data, split, input_domain, skip_bad_files)
    return translate_pairs(translate, pairs, out_dir, input_domain=input_domain, input_channels=input_channels,
                           output_channels=output_channels, size=size, skip_bad_files=skip_bad_files,
                           skipped=skipped, description=f"the {split} split of {data}")


def split_pairs(data: str | Path, split: str | None, input_domain: str,
                skip_bad_files: bool = False) -> tuple[list[tuple], list[dict]]:
    """(pairs, skipped) of a paired data set's split: `_split_pairs` through `readable_pairs`.

    Each pair is (name, input file, truth file, aligned); see `readable_pairs` for `skipped`.
    """
    pairs = _split_pairs(data, split, input_domain)
    good, skipped = readable_pairs([(name, source, target) for name, source, target, _ in pairs], skip_bad_files)
    aligned = {name: flag for name, _, _, flag in pairs}
    return [(name, source, target, aligned[name]) for name, source, target in good], skipped


def translate_pairs(translate: Callable[[np.ndarray], np.ndarray], pairs: Sequence[tuple], out_dir: str | Path, *,
                    input_domain: str, input_channels: int, output_channels: int, size: int | None,
                    skip_bad_files: bool, skipped: list[dict], description: str = "the split") -> dict[str, Path]:
    """`translate_split`'s loop over `split_pairs`; a pair failing to load is added to `skipped` (or raises)."""
    truth_domain = "B" if input_domain == "A" else "A"
    out_dir = Path(out_dir)
    folders = {key: out_dir / key for key in ("input", "pred", "truth")}
    aligned_of = {pair[0]: pair[3] for pair in pairs}
    loaded = _loaded([pair[:3] for pair in pairs], (input_channels, output_channels), skip_bad_files, skipped)
    for name, image, truth in loaded:
        if aligned_of[name]:
            image, truth = _half(image, input_domain), _half(truth, truth_domain)
        if size is not None:
            image, truth = resize_to(image, size, size), resize_to(truth, size, size)
        save_image(image, folders["input"] / f"{name}.png")
        save_image(translate(image), folders["pred"] / f"{name}.png")
        save_image(truth, folders["truth"] / f"{name}.png")
    log.info("Translated %s into %s", description, folders["pred"])
    return folders


__all__ = [
    "UNITS",
    "EvaluationResult",
    "evaluate_arrays",
    "evaluate_folders",
    "evaluate_pairs",
    "feature_extractor",
    "match_files",
    "readable_pairs",
    "resize_to",
    "split_pairs",
    "translate_pairs",
    "translate_split",
]
