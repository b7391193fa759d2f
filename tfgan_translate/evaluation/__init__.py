"""Evaluating translations: paired metrics, KID/FID, reports (`tfgan-translate evaluate`).

- `metrics.py`: L1, PSNR, SSIM and the sharpness ratio of one image against its target.
- `distribution.py`: FID and KID on feature vectors (numpy only).
- `features.py`: Inception-v3 pool features, with `--feature-weights` for offline use.
- `evaluate.py`: folders matched by name, arrays.
- `pairing.py`, `result.py`: files matched by name and checked; `EvaluationResult`.
- `report.py`: JSON, a Markdown summary and sample grids.
- `run.py`: `evaluate_run`, a run (or an export) translating a data set's split, then scored.

The public names below are imported on first use (`tfgan_translate.lazy`), so ``import tfgan_translate.evaluation``
is light.

Example:

>>> from tfgan_translate.evaluation import evaluate_folders, evaluate_run
>>> result = evaluate_folders("out/pred", "out/truth", report_dir="out/report")  # doctest: +SKIP
>>> result = evaluate_run("runs/facades", "datasets/facades", json_path="facades.json")  # doctest: +SKIP
>>> print(result.summary())  # doctest: +SKIP
"""

from tfgan_translate.lazy import lazy_exports

_MODULES = {
    "distribution": ["fid_from_features", "frechet_distance", "kid_from_features", "mmd2_unbiased",
                     "polynomial_kernel", "sqrtm_psd"],
    "evaluate": ["evaluate_arrays", "evaluate_folders", "evaluate_pairs", "feature_extractor"],
    "features": ["FeatureWeightsUnavailable", "InceptionFeatures"],
    "metrics": ["PSNR_CAP_DB", "high_frequency_energy", "paired_metrics", "sharpness_ratio"],
    "pairing": ["match_files", "resize_to"],
    "report": ["image_grid", "write_json", "write_report"],
    "result": ["EvaluationResult"],
    "run": ["evaluate_run", "source_kind"],
}
_EXPORTS = {name: f"{__name__}.{module}" for module, names in _MODULES.items() for name in names}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
