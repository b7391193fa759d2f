"""Evaluating translations: paired metrics, KID/FID, reports (`tfgan-translate evaluate`).

- `metrics.py`: L1, PSNR, SSIM and the sharpness ratio of one image against its target.
- `distribution.py`: FID and KID on feature vectors (numpy only).
- `features.py`: Inception-v3 pool features, with `--feature-weights` for offline use.
- `evaluate.py`: folders matched by name, arrays.
- `pairing.py`, `result.py`: files matched by name and checked; `EvaluationResult`.
- `report.py`: JSON, a Markdown summary and sample grids.
- `run.py`: `evaluate_run`, a run (or an export) translating a data set's split, then scored.

Example:

>>> from tfgan_translate.evaluation import evaluate_folders, evaluate_run
>>> result = evaluate_folders("out/pred", "out/truth", report_dir="out/report")  # doctest: +SKIP
>>> result = evaluate_run("runs/facades", "datasets/facades", json_path="facades.json")  # doctest: +SKIP
>>> print(result.summary())  # doctest: +SKIP
"""

from tfgan_translate.evaluation.distribution import (
    fid_from_features,
    frechet_distance,
    kid_from_features,
    mmd2_unbiased,
    polynomial_kernel,
    sqrtm_psd,
)
from tfgan_translate.evaluation.evaluate import evaluate_arrays, evaluate_folders, evaluate_pairs, feature_extractor
from tfgan_translate.evaluation.features import FeatureWeightsUnavailable, InceptionFeatures
from tfgan_translate.evaluation.metrics import PSNR_CAP_DB, high_frequency_energy, paired_metrics, sharpness_ratio
from tfgan_translate.evaluation.pairing import match_files, resize_to
from tfgan_translate.evaluation.report import image_grid, write_json, write_report
from tfgan_translate.evaluation.result import EvaluationResult
from tfgan_translate.evaluation.run import evaluate_run, source_kind

__all__ = ["PSNR_CAP_DB", "EvaluationResult", "FeatureWeightsUnavailable", "InceptionFeatures", "evaluate_arrays",
           "evaluate_folders", "evaluate_pairs", "evaluate_run", "feature_extractor", "fid_from_features",
           "frechet_distance", "high_frequency_energy", "image_grid", "kid_from_features", "match_files",
           "mmd2_unbiased", "paired_metrics", "polynomial_kernel", "resize_to", "sharpness_ratio", "source_kind",
           "sqrtm_psd", "write_json", "write_report"]
