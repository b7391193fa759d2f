"""Evaluation: paired metrics with known values, KID/FID math, features plumbing, `tfgan-translate evaluate`."""

from __future__ import annotations

import json
import socket

import keras
import numpy as np
import pytest

from tfgan_translate.app import cli
from tfgan_translate.data import DataError, save_image
from tfgan_translate.evaluation import (
    PSNR_CAP_DB,
    FeatureWeightsUnavailable,
    InceptionFeatures,
    evaluate_arrays,
    evaluate_folders,
    fid_from_features,
    frechet_distance,
    high_frequency_energy,
    kid_from_features,
    match_files,
    mmd2_unbiased,
    paired_metrics,
    sharpness_ratio,
    sqrtm_psd,
)
from tfgan_translate.evaluation import features as features_module


def texture(size=32, seed=0, channels=3):
    """A detailed image in [-0.8, 0.8]: smooth gradient plus pixel noise."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(-0.4, 0.4, size)[:, None, None] * np.ones((size, size, channels))
    return np.clip(ramp + rng.uniform(-0.4, 0.4, (size, size, channels)), -0.8, 0.8).astype(np.float32)


def box_blur(image):
    padded = np.pad(image, ((1, 1), (1, 1), (0, 0)), mode="edge")
    h, w = image.shape[:2]
    return sum(padded[i:i + h, j:j + w] for i in range(3) for j in range(3)) / 9.0


# ------------------------------------------------------------------ paired metrics


def test_identical_images():
    x = texture()
    m = paired_metrics(x, x)
    assert m["l1"] == 0.0
    assert m["psnr"] == PSNR_CAP_DB  # infinite PSNR, capped
    assert m["ssim"] == pytest.approx(1.0, abs=1e-5)
    assert m["sharpness"] == pytest.approx(1.0)


def test_shifted_image_known_values():
    x = texture()
    m = paired_metrics(x + 0.2, x)  # a constant offset of 0.2 in [-1, 1] units, 0.1 on [0, 1] pixels
    assert m["l1"] == pytest.approx(0.2, abs=1e-5)
    assert m["psnr"] == pytest.approx(20.0, abs=1e-3)  # 10 log10(1 / 0.1^2)
    assert m["sharpness"] == pytest.approx(1.0, abs=1e-6)  # an offset adds no detail
    assert 0.5 < m["ssim"] < 1.0


def test_constant_images_known_values():
    target, prediction = np.zeros((16, 16, 3), np.float32), np.full((16, 16, 3), 0.5, np.float32)
    m = paired_metrics(prediction, target)
    assert m["l1"] == pytest.approx(0.5)
    assert m["psnr"] == pytest.approx(10 * np.log10(1 / 0.25**2), abs=1e-3)
    c1 = 0.01**2  # SSIM on flat images is its luminance term alone: (2 mu_x mu_y + c1) / (mu_x^2 + mu_y^2 + c1)
    # (tf.image.ssim, which image_quality uses, gives 0.92272 for the 0.92309 of the formula)
    assert m["ssim"] == pytest.approx((2 * 0.5 * 0.75 + c1) / (0.5**2 + 0.75**2 + c1), abs=1e-3)
    assert m["sharpness"] == 1.0  # two flat images


def test_high_frequency_energy_checkerboard():
    board = np.where(np.indices((8, 8)).sum(0) % 2 == 0, 1.0, -1.0)[..., None]  # 0/1 pixels: Laplacian +-4
    assert high_frequency_energy(board) == pytest.approx(16.0)
    assert high_frequency_energy(np.full((8, 8, 3), 0.3)) == 0.0


def test_sharpness_blur_and_noise():
    target = texture(48, seed=1)
    assert sharpness_ratio(box_blur(target), target) < 0.3
    noisy = np.clip(target + np.random.default_rng(2).normal(0, 0.3, target.shape), -1, 1)
    assert sharpness_ratio(noisy, target) > 1.5


def test_metric_errors_name_the_problem():
    with pytest.raises(ValueError, match="same shape"):
        paired_metrics(np.zeros((16, 16, 3)), np.zeros((16, 17, 3)))
    with pytest.raises(ValueError, match="11x11"):
        paired_metrics(np.zeros((8, 8, 3)), np.zeros((8, 8, 3)))


# ------------------------------------------------------------------ FID / KID math


def exact_moments(n, mean, cov, seed):
    """n samples whose sample mean and covariance (ddof 1) are exactly `mean` and `cov`."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, len(mean)))
    z -= z.mean(0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False)).T)  # sample covariance I
    return z @ np.linalg.cholesky(cov).T + mean


def sqrt_2x2(m):
    """Square root of a 2x2 matrix with positive eigenvalues: (M + s I) / t, s = sqrt(det M), t = sqrt(tr M + 2 s)."""
    s = np.sqrt(np.linalg.det(m))
    return (m + s * np.eye(2)) / np.sqrt(np.trace(m) + 2 * s)


def test_sqrtm_psd():
    a = np.random.default_rng(0).normal(size=(5, 5))
    m = a @ a.T
    root = sqrtm_psd(m)
    np.testing.assert_allclose(root @ root, m, atol=1e-9)
    np.testing.assert_allclose(root, root.T)


def test_fid_identical_and_shifted():
    f = np.random.default_rng(0).normal(size=(200, 6))
    assert fid_from_features(f, f) == pytest.approx(0.0, abs=1e-6)
    shift = np.array([1.0, -2.0, 0.5, 0.0, 0.0, 3.0])
    assert fid_from_features(f + shift, f) == pytest.approx(shift @ shift, abs=1e-6)


def test_fid_matches_closed_form_for_two_gaussians():
    mu1, mu2 = np.array([0.0, 1.0]), np.array([2.0, -1.0])
    c1, c2 = np.array([[2.0, 0.6], [0.6, 1.0]]), np.array([[1.0, -0.3], [-0.3, 0.5]])
    f1, f2 = exact_moments(400, mu1, c1, seed=1), exact_moments(300, mu2, c2, seed=2)
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(c1 + c2 - 2 * sqrt_2x2(c1 @ c2))
    assert fid_from_features(f1, f2) == pytest.approx(expected, rel=1e-8)
    assert frechet_distance(mu1, c1, mu2, c2) == pytest.approx(expected, rel=1e-10)
    # diagonal covariances: sum of (sigma1 - sigma2)^2
    assert frechet_distance([0, 0], np.diag([4.0, 9.0]), [0, 0], np.diag([1.0, 1.0])) == pytest.approx(1 + 4)


def naive_mmd2(x, y):
    def k(a, b):
        return (a @ b / len(a) + 1.0) ** 3

    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def test_mmd2_unbiased_matches_definition():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(7, 3)), rng.normal(size=(5, 3)) + 0.5
    assert mmd2_unbiased(x, y) == pytest.approx(naive_mmd2(x, y), rel=1e-10)
    a, b = np.array([1.0, 2.0, 0.0]), np.array([0.0, -1.0, 1.0])  # constant sets: k(a,a) + k(b,b) - 2 k(a,b)

    def k(u, v):
        return (u @ v / 3 + 1) ** 3

    assert mmd2_unbiased(np.tile(a, (4, 1)), np.tile(b, (6, 1))) == pytest.approx(k(a, a) + k(b, b) - 2 * k(a, b))


def test_kid_same_vs_shifted_distribution():
    rng = np.random.default_rng(0)
    d = 16
    real, same = rng.normal(size=(300, d)), rng.normal(size=(300, d))
    same_kid = kid_from_features(same, real, subsets=20, subset_size=100)
    shifted_kid = kid_from_features(same + 1.0, real, subsets=20, subset_size=100)
    assert abs(same_kid["mean"]) < 3 * same_kid["std"] + 0.01
    assert shifted_kid["mean"] > 10 * (abs(same_kid["mean"]) + same_kid["std"])
    assert same_kid["subset_size"] == 100 and same_kid["std"] > 0
    whole = kid_from_features(same, real, subsets=5)  # subset_size 1000 > n: the whole sets, std 0
    assert whole["subset_size"] == 300 and whole["std"] == 0.0
    assert whole["mean"] == pytest.approx(mmd2_unbiased(same, real))


def test_kid_fid_argument_errors():
    with pytest.raises(ValueError, match="n >= 2"):
        fid_from_features(np.zeros((1, 4)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="subset_size"):
        kid_from_features(np.zeros((5, 4)), np.zeros((5, 4)), subset_size=1)


# ------------------------------------------------------------------ features


def test_inception_features_plumbing_random_weights(tmp_path):
    features = InceptionFeatures(weights=None, image_size=75, batch_size=2)
    images = [texture(32), texture(40, seed=1)[:, :36], texture(20, seed=2, channels=1)]  # sizes and channels differ
    out = features(images)
    assert out.shape == (3, 2048) and np.all(np.isfinite(out))
    # a local weights file (--feature-weights PATH) loads into the same network
    path = tmp_path / "inception.weights.h5"
    features.model.save_weights(path)
    reloaded = InceptionFeatures(weights=str(path), image_size=75)
    np.testing.assert_allclose(reloaded(images), out, rtol=1e-4, atol=1e-4)


def test_feature_weights_errors(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="--feature-weights"):
        InceptionFeatures(weights=str(tmp_path / "missing.h5"))
    # offline without a cached copy: a clear error naming --feature-weights, and no network touched
    asked = []

    def offline(*args, **kwargs):
        asked.append((args, kwargs, socket.getdefaulttimeout()))
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- simulated offline")

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(keras.utils, "get_file", offline)
    with pytest.raises(FeatureWeightsUnavailable, match="--feature-weights PATH") as error:
        InceptionFeatures()
    assert f"({tmp_path / 'keras' / 'models' / features_module.INCEPTION_WEIGHTS_FILE})" in str(error.value)
    assert "simulated offline" in str(error.value) and "\n" not in str(error.value)
    assert asked[0][1]["file_hash"] == features_module.INCEPTION_WEIGHTS_MD5
    assert asked[0][2] == features_module.NETWORK_TIMEOUT_S and socket.getdefaulttimeout() is None
    code = cli.main(["evaluate", "--pred", str(tmp_path), "--truth", str(tmp_path), "--kid"])
    assert code == 2


def mean_color_features(images):
    """A tiny stand-in extractor: per-channel mean and std."""
    return np.stack([np.concatenate([im.mean((0, 1)), im.std((0, 1))]) for im in images])


def test_evaluate_arrays_with_stand_in_extractor():
    truths = [texture(24, seed=i) for i in range(6)]
    same = evaluate_arrays(truths, truths, kid=True, fid=True, extractor=mean_color_features)
    assert same.fid == pytest.approx(0.0, abs=1e-6)
    assert same.mean["l1"] == 0.0 and same.info["feature_dim"] == 6
    darker = evaluate_arrays([t - 0.5 for t in truths], truths, kid=True, fid=True, extractor=mean_color_features)
    assert darker.fid == pytest.approx(3 * 0.25, abs=1e-6)  # the mean moves by 0.5 on 3 channels
    assert darker.kid["mean"] > same.kid["mean"]


# ------------------------------------------------------------------ folders and CLI


@pytest.fixture
def folders(tmp_path):
    pred, truth = tmp_path / "pred", tmp_path / "truth"
    for i in range(3):
        image = texture(32, seed=i)
        save_image(image, truth / f"img{i}.png")
        save_image(box_blur(image), pred / f"img{i}.jpg")
    save_image(texture(32, seed=0)[:16, :16], pred / "img0.jpg")  # another size: resized to the truth's
    return pred, truth


def test_evaluate_folders_matches_and_resizes(folders):
    pred, truth = folders
    result = evaluate_folders(pred, truth)
    assert [row["name"] for row in result.per_image] == ["img0", "img1", "img2"]
    assert result.info["resized"] == ["img0"]
    assert result.mean["sharpness"] < 0.7  # blurred predictions
    same = evaluate_folders(truth, truth)
    assert same.mean["l1"] == 0.0 and same.mean["psnr"] == PSNR_CAP_DB and same.mean["sharpness"] == 1.0


def test_unmatched_names_are_listed(folders, capsys):
    pred, truth = folders
    save_image(texture(32), pred / "extra.png")
    (truth / "img2.png").unlink()
    with pytest.raises(DataError, match=r"without a truth image: extra, img2") as error:
        match_files(pred, truth)
    assert "img2" in str(error.value)
    assert cli.main(["evaluate", "--pred", str(pred), "--truth", str(truth)]) == 2
    assert "Unmatched file names" in capsys.readouterr().err


def test_cli_evaluate_pred_truth(folders, tmp_path, capsys):
    pred, truth = folders
    out = tmp_path / "eval.json"
    assert cli.main(["evaluate", "--pred", str(pred), "--truth", str(truth), "--json", str(out),
                     "--report", str(tmp_path / "report")]) == 0
    data = json.loads(out.read_text())
    assert set(data["mean"]) == {"l1", "psnr", "ssim", "sharpness"} and data["count"] == 3
    assert set(data["per_image"][0]) == {"name", "l1", "psnr", "ssim", "sharpness"}
    assert "kid" not in data and "fid" not in data
    report = (tmp_path / "report" / "report.md").read_text()
    assert "![samples](samples.png)" in report and "| img1 |" in report
    assert (tmp_path / "report" / "samples.png").is_file() and (tmp_path / "report" / "metrics.json").is_file()
    assert "Evaluated 3 image pair(s)" in capsys.readouterr().out


def test_cli_evaluate_argument_errors(folders, capsys):
    pred, _ = folders
    assert cli.main(["evaluate", "--pred", str(pred)]) == 2
    assert "--truth" in capsys.readouterr().err


def test_cli_evaluate_checkpoint(tiny_run, synth_dir, tmp_path):
    report = tmp_path / "report"
    out = tmp_path / "eval.json"
    assert cli.main(["evaluate", "--checkpoint", str(tiny_run), "--data", str(synth_dir), "--json", str(out),
                     "--report", str(report), "--grid-rows", "2"]) == 0
    data = json.loads(out.read_text())
    assert data["count"] == 4 and data["direction"] == "AtoB" and data["split"] == "test"
    for sub in ("input", "pred", "truth"):
        assert len(list((report / sub).glob("*.png"))) == 4
    assert "input | pred | truth" in (report / "report.md").read_text()
    # the truth is the B half of each aligned test file
    from tfgan_translate.data import list_images, load_image

    first = list_images(synth_dir / "test")[0]
    np.testing.assert_allclose(load_image(report / "truth" / f"{first.stem}.png"), load_image(first)[:, 32:],
                               atol=1e-6)


def test_cli_evaluate_model_export(tiny_run, synth_dir, tmp_path):
    from tfgan_translate.export import export_generator

    export = export_generator(tiny_run, tmp_path / "export", saved_model=False, quantize="none")
    tflite = next(iter(export.tflite.values()))
    outs = {}
    for flag, source in (("--model", tflite), ("--checkpoint", tiny_run)):
        outs[flag] = tmp_path / f"{flag[2:]}.json"
        assert cli.main(["evaluate", flag, str(source), "--data", str(synth_dir), "--json", str(outs[flag])]) == 0
    by_model, by_checkpoint = (json.loads(path.read_text()) for path in outs.values())
    assert by_model["count"] == 4 and by_model["model"] == str(tflite)
    # unet_32 has no dropout levels and the export matches Keras: the same translations up to 8-bit rounding
    assert by_model["mean"]["l1"] == pytest.approx(by_checkpoint["mean"]["l1"], abs=0.005)


def test_evaluate_run_is_the_command_as_a_function(tiny_run, synth_dir, tmp_path):
    from tfgan_translate.evaluation import evaluate_run, source_kind

    assert source_kind(tiny_run) == "checkpoint" and source_kind(tmp_path / "g.tflite") == "model"
    result = evaluate_run(tiny_run, synth_dir, report_dir=tmp_path / "report", json_path=tmp_path / "e.json",
                          grid_rows=2)
    assert len(result.per_image) == 4 and result.info["direction"] == "AtoB" and result.info["split"] == "test"
    assert json.loads((tmp_path / "e.json").read_text())["count"] == 4
    assert result.written == {"json": tmp_path / "e.json", "report": tmp_path / "report" / "report.md"}
    assert (tmp_path / "report" / "samples.png").is_file() and len(list((tmp_path / "report" / "pred").glob("*"))) == 4
    assert result.summary().startswith("Evaluated 4 image pair(s): L1 ") and "Report: " in result.summary()
    with pytest.raises(ValueError, match="fit='crop'"):
        evaluate_run(tiny_run, synth_dir, fit="crop")


def test_json_is_written_through_io(tmp_path):
    from tfgan_translate.evaluation import write_json

    path = write_json({"psnr": np.float32(np.inf), "l1": [np.float64(0.5), float("nan")]}, tmp_path / "m.json")
    assert json.loads(path.read_text()) == {"psnr": None, "l1": [0.5, None]}
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]  # no temporary left behind
