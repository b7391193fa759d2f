"""Evaluating translations: paired metrics, KID/FID, reports (`tfgan-translate evaluate`).

- `metrics.py`: L1, PSNR, SSIM and the sharpness ratio of one image against its target.
- `distribution.py`: FID and KID on feature vectors (numpy only).
- `features.py`: Inception-v3 pool features, with `--feature-weights` for offline use.
- `evaluate.py`: folders matched by name, arrays, translating a test split first.
- `report.py`: JSON, a Markdown summary and sample grids.

Example:

>>> from tfgan_translate.evaluation import evaluate_folders, write_report
>>> result = evaluate_folders("out/pred", "out/truth")          # doctest: +SKIP
>>> write_report(result, "out/report", pred_dir="out/pred", truth_dir="out/truth")  # doctest: +SKIP
"""

from tfgan_translate.evaluation.distribution import (
    fid_from_features,
    frechet_distance,
    kid_from_features,
    mmd2_unbiased,
    polynomial_kernel,
    sqrtm_psd,
)
from tfgan_translate.evaluation.evaluate import (
    EvaluationResult,
    evaluate_arrays,
    evaluate_folders,
    evaluate_pairs,
    match_files,
    resize_to,
    translate_split,
)
from tfgan_translate.evaluation.features import FeatureWeightsUnavailable, InceptionFeatures
from tfgan_translate.evaluation.metrics import (
    PSNR_CAP_DB,
    high_frequency_energy,
    paired_metrics,
    sharpness_ratio,
)
from tfgan_translate.evaluation.report import image_grid, write_json, write_report

__all__ = [
    "PSNR_CAP_DB",
    "EvaluationResult",
    "FeatureWeightsUnavailable",
    "InceptionFeatures",
    "evaluate_arrays",
    "evaluate_folders",
    "evaluate_pairs",
    "fid_from_features",
    "frechet_distance",
    "high_frequency_energy",
    "image_grid",
    "kid_from_features",
    "match_files",
    "mmd2_unbiased",
    "paired_metrics",
    "polynomial_kernel",
    "resize_to",
    "sharpness_ratio",
    "sqrtm_psd",
    "translate_split",
    "write_json",
    "write_report",
]
