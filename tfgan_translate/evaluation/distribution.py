"""Distribution metrics on feature vectors: FID and KID.

Both compare the set of translated images with the set of real ones through
features of a fixed network (Inception-v3's 2048-d pool features, see
`features.py`), without pairing images, so they judge realism rather than
faithfulness. Lower is better; 0 means the same distribution.

- FID (Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule
  Converge to a Local Nash Equilibrium"): the Frechet distance between
  Gaussians fitted to the two sets,
  ``|mu1 - mu2|^2 + tr(C1 + C2 - 2 (C1 C2)^(1/2))``. Biased for small sets
  (it grows as the number of images falls); with fewer images than feature
  dimensions the covariances are rank-deficient, so compare FIDs only at equal
  set sizes.
- KID (Binkowski et al. 2018, "Demystifying MMD GANs"): the unbiased estimate
  of the squared maximum mean discrepancy with the cubic polynomial kernel
  ``k(x, y) = (x . y / d + 1)^3``, averaged over random subsets (mean and
  standard deviation reported). Unbiased, so usable on small sets; can be
  slightly negative when the sets match.

Everything is plain numpy in float64 (the matrix square root by symmetric
eigen-decomposition; no scipy).

Example:

>>> rng = np.random.default_rng(0)
>>> a, b = rng.normal(size=(500, 8)), rng.normal(size=(500, 8)) + 1.0
>>> round(frechet_distance(a.mean(0), np.cov(a, rowvar=False), a.mean(0), np.cov(a, rowvar=False)), 6)
0.0
"""

from __future__ import annotations

import numpy as np

from tfgan_translate.data.checks import check_int


def _features(features, argument: str, minimum: int = 2) -> np.ndarray:
    features = np.asarray(features, np.float64)
    if features.ndim != 2 or features.shape[0] < minimum or features.shape[1] < 1:
        raise ValueError(f"Invalid value for argument `{argument}`. Received an array of shape {features.shape}. "
                         f"Expected (n, d) features with n >= {minimum}.")
    if not np.all(np.isfinite(features)):
        raise ValueError(f"Invalid value for argument `{argument}`: the features hold NaN or Inf values.")
    return features


def _feature_sets(features1, features2) -> tuple[np.ndarray, np.ndarray]:
    f1, f2 = _features(features1, "features1"), _features(features2, "features2")
    if f1.shape[1] != f2.shape[1]:
        raise ValueError(f"Feature sizes differ: {f1.shape[1]} and {f2.shape[1]}.")
    return f1, f2


def sqrtm_psd(matrix) -> np.ndarray:
    """The symmetric square root of a symmetric positive semi-definite matrix.

    By eigen-decomposition, ``V diag(sqrt(max(w, 0))) V^T``; small negative
    eigenvalues from round-off are clipped to 0.
    """
    matrix = np.asarray(matrix, np.float64)
    matrix = (matrix + matrix.T) / 2.0
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    return (eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ eigenvectors.T


def frechet_distance(mu1, cov1, mu2, cov2) -> float:
    """Frechet (2-Wasserstein) distance between N(mu1, cov1) and N(mu2, cov2), squared.

    ``|mu1 - mu2|^2 + tr(cov1) + tr(cov2) - 2 tr((cov1 cov2)^(1/2))``. The trace
    of the square root is computed as ``tr((S1 cov2 S1)^(1/2))`` with
    ``S1 = cov1^(1/2)``: the same eigenvalues, but of a symmetric positive
    semi-definite matrix, so the symmetric eigen-solver applies.

    Args:
        mu1, mu2: (d,) means.
        cov1, cov2: (d, d) symmetric positive semi-definite covariances.

    Returns:
        float >= 0 (tiny negative round-off is clipped to 0).
    """
    mu1, mu2 = np.asarray(mu1, np.float64).ravel(), np.asarray(mu2, np.float64).ravel()
    cov1, cov2 = np.atleast_2d(np.asarray(cov1, np.float64)), np.atleast_2d(np.asarray(cov2, np.float64))
    d = mu1.shape[0]
    if mu2.shape != (d,) or cov1.shape != (d, d) or cov2.shape != (d, d):
        raise ValueError(f"Shapes do not match: mu1 {mu1.shape}, cov1 {cov1.shape}, mu2 {mu2.shape}, "
                         f"cov2 {cov2.shape}; expected (d,) means and (d, d) covariances.")
    root1 = sqrtm_psd(cov1)
    trace_sqrt = float(np.trace(sqrtm_psd(root1 @ cov2 @ root1)))
    diff = mu1 - mu2
    return max(float(diff @ diff + np.trace(cov1) + np.trace(cov2) - 2.0 * trace_sqrt), 0.0)


def fid_from_features(features1, features2) -> float:
    """FID between two sets of feature vectors (rows), each summarised by its mean and covariance.

    Args:
        features1: (n1, d) array, n1 >= 2 (e.g. Inception features of the translations).
        features2: (n2, d) array, n2 >= 2 (e.g. of the real images).

    Returns:
        float >= 0. Sample covariances use n - 1 (`np.cov`).

    Example:

    >>> fid_from_features(feats_fake, feats_real)  # doctest: +SKIP
    """
    f1, f2 = _feature_sets(features1, features2)
    return frechet_distance(f1.mean(0), np.cov(f1, rowvar=False), f2.mean(0), np.cov(f2, rowvar=False))


def polynomial_kernel(x, y) -> np.ndarray:
    """KID's kernel ``k(x, y) = (x . y / d + 1)^3`` for all rows of x (n, d) and y (m, d): an (n, m) matrix."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def mmd2_unbiased(x, y) -> float:
    """The unbiased estimate of MMD^2 between samples x (m, d) and y (n, d) with `polynomial_kernel`.

    ``sum_{i != j} k(x_i, x_j) / (m (m - 1)) + sum_{i != j} k(y_i, y_j) / (n (n - 1))
    - 2 sum_{i, j} k(x_i, y_j) / (m n)``; m, n >= 2.
    """
    x, y = _features(x, "x"), _features(y, "y")
    m, n = x.shape[0], y.shape[0]
    k_xx, k_yy, k_xy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    term_xx = (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
    term_yy = (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
    return float(term_xx + term_yy - 2.0 * k_xy.mean())


def kid_from_features(features1, features2, *, subsets: int = 100, subset_size: int = 1000,
                      seed: int = 0) -> dict[str, float]:
    """KID between two sets of feature vectors: the mean and std of `mmd2_unbiased` over random subsets.

    Each subset draws ``m = min(subset_size, n1, n2)`` rows from each set
    without replacement (the reference implementation's scheme). When m equals
    both set sizes every subset is the whole set and the std is 0.

    Args:
        features1: (n1, d) array, n1 >= 2.
        features2: (n2, d) array, n2 >= 2.
        subsets: int. Number of subsets. Defaults to 100.
        subset_size: int. Rows per subset at most. Defaults to 1000.
        seed: int. Subset sampling seed. Defaults to 0.

    Returns:
        {"mean", "std", "subsets", "subset_size"} (subset_size: the m used).

    Example:

    >>> kid_from_features(feats_fake, feats_real, subset_size=50)["mean"]  # doctest: +SKIP
    """
    f1, f2 = _feature_sets(features1, features2)
    subsets, subset_size = check_int(subsets, "subsets"), check_int(subset_size, "subset_size", minimum=2)
    m = min(subset_size, len(f1), len(f2))
    rng = np.random.default_rng(seed)
    if m == len(f1) == len(f2):  # every subset is the whole of both sets
        values = np.array([mmd2_unbiased(f1, f2)])
    else:  # m rows of each set, drawn without replacement
        values = np.array([mmd2_unbiased(*(f[rng.choice(len(f), m, replace=False)] for f in (f1, f2)))
                           for _ in range(subsets)])
    return {"mean": float(values.mean()), "std": float(values.std()), "subsets": subsets, "subset_size": m}
