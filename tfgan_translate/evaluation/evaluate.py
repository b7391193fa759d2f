"""Evaluating translations against ground truth: folders or arrays (a run or an export: `run.evaluate_run`).

`evaluate_folders(pred_dir, truth_dir)` pairs files by name without extension
(``pred/12.png`` with ``truth/12.jpg``; any unmatched name is an error listing
them), reads both at `channels`, resizes a prediction whose size differs from
its target's to the target's size (bicubic with antialiasing, clipped; such
names are listed in ``info["resized"]``), and computes per image and on average
the paired metrics of `metrics.py` (L1, PSNR, SSIM, sharpness), plus KID and
FID between the two sets on request (`distribution.py`, features from
`features.py`).

Unreadable images: every file is checked before the first is scored or
translated. Without `skip_bad_files` the first bad one stops the evaluation
with its name and the reason (and the flag to pass); with it, the pairs holding
one are left out and listed in ``info["skipped"]`` ({"name", "file",
"reason"}), which the JSON, the report and the summary show.

The pieces: `result` (`EvaluationResult`, units), `pairing` (files matched by name, checked, loaded).

Example:

>>> result = evaluate_folders("translated/", "photos/", kid=True,
...                           feature_weights="inception_notop.h5")  # doctest: +SKIP
>>> result.mean["l1"], result.kid["mean"]  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from tfgan_translate.evaluation.distribution import fid_from_features, kid_from_features
from tfgan_translate.evaluation.metrics import PAIRED_METRICS, paired_metrics
from tfgan_translate.evaluation.pairing import loaded_pairs, match_files, readable_pairs, resize_to
from tfgan_translate.evaluation.result import EvaluationResult

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


def evaluate_pairs(pairs: Iterable[tuple[str, np.ndarray, np.ndarray]], *, kid: bool = False, fid: bool = False,
                   feature_weights="imagenet", extractor: Callable[[Sequence[np.ndarray]], np.ndarray] | None = None,
                   kid_subsets: int = 100, kid_subset_size: int = 1000, feature_batch: int = 32,
                   seed: int = 0) -> EvaluationResult:
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
    per_image, resized, pending, feature_sets = [], [], [], ([], [])  # pending: (prediction, truth) to featurise

    def flush():  # the features of the pending predictions, then of their truths
        for images, found in zip(zip(*pending), feature_sets):
            found.append(np.asarray(features(list(images)), np.float64))
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
        pred_f, truth_f = (np.concatenate(found) for found in feature_sets)
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
    wanted = None if names is None else set(names)
    matched = [pair for pair in matched if wanted is None or pair[0] in wanted]
    info = dict(info or {})
    matched, skipped = readable_pairs(matched, skip_bad_files)
    skipped = [*info.pop("skipped", []), *skipped]
    result = evaluate_pairs(loaded_pairs(matched, (channels, channels), skip_bad_files, skipped), **kwargs)
    result.info = {"pred": str(pred_dir), "truth": str(truth_dir), **result.info, "skipped": skipped, **info}
    if json_path is not None:
        result.written["json"] = write_json(result, json_path)
    if report_dir is not None:
        result.written["report"] = write_report(result, report_dir, pred_dir=pred_dir, truth_dir=truth_dir,
                                                input_dir=input_dir, rows=grid_rows)
    return result
