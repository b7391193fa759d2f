"""What an evaluation measured (`EvaluationResult`), the units of its figures, and its skipped files in words."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from tfgan_translate.evaluation.metrics import PAIRED_METRICS, PSNR_CAP_DB
from tfgan_translate.io import listing

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
        figures = {key: value for key, value in (("kid", self.kid and dict(self.kid)), ("fid", self.fid))
                   if value is not None}  # those computed
        units = {key: text for key, text in UNITS.items() if key in PAIRED_METRICS or key in figures}
        return {**out, **figures, "units": units, "per_image": [dict(row) for row in self.per_image]}



def describe_skipped(skipped: Sequence[dict], limit: int = 5) -> str:
    """'N unreadable image(s) (--skip-bad-files): FILE (reason); ...' for ``info["skipped"]``."""
    listed = listing([f"{row['file']} ({row['reason']})" for row in skipped], limit, sep="; ")
    return f"{len(skipped)} unreadable image(s) (--skip-bad-files): {listed}"
