"""A CUT run through the rest of the command line, as a CycleGAN run goes (issue 22, item 3).

One tiny `train cut` run (mixed bfloat16, a corrupt file skipped with --skip-bad-files, per-step logs and
sample grids) is shared, read-only, by: its TensorBoard events and gallery; tiled translation against the
untiled one; `evaluate --checkpoint` on paired data; and the export to every TFLite kind and the web page.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tfgan_translate.app.cli import main
from tfgan_translate.data import write_synthetic_dataset, write_synthetic_unpaired_dataset
from tfgan_translate.models.cut import CUT
from tfgan_translate.training.run import load_run

TINY = ["--image-size", "32", "--load-size", "36", "--netG", "resnet_1blocks", "--ngf", "4", "--ndf", "4",
        "--netD", "n_layers", "--n-layers-D", "2", "--nce-layers", "0,4,8,12", "--num-patches", "16",
        "--epochs", "1", "--steps-per-epoch", "2", "--batch-size", "1", "--strategy", "none", "--seed", "1",
        "--validation-steps", "1", "--log-every", "1", "--sample-every", "1"]


@pytest.fixture(scope="module")
def cut_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("cut_cli")
    data = write_synthetic_unpaired_dataset(root / "data", n_train=3, n_test=2, size=32)
    (data / "trainA" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not an image")
    run = root / "run"
    assert main(["-q", "train", "cut", "--data", str(data), "--out", str(run), "--precision", "mixed_bfloat16",
                 "--skip-bad-files", *TINY]) == 0
    return run, data


def test_a_mixed_precision_cut_run_logs_its_terms_and_skips_the_bad_file(cut_run):
    run, _ = cut_run
    config, model = load_run(run)
    assert isinstance(model, CUT) and config.precision == "mixed_bfloat16" and config.skip_bad_files
    assert model.generator.dtype_policy.name == "mixed_bfloat16" and model.steps_run == 2
    events = EventAccumulator(str(run / "logs" / "train"), size_guidance={"tensors": 0})
    events.Reload()
    tags = set(events.Tags()["tensors"])
    for term in ("gen_loss", "g_gan_loss", "nce_loss", "nce_identity_loss", "d_loss"):
        assert f"step/{term}" in tags and f"epoch/{term}" in tags, term
    metrics = json.loads((run / "metrics.json").read_text())
    assert all(np.isfinite(metrics[term]) for term in ("gen_loss", "nce_loss", "d_loss", "val_patch_nce"))
    assert (run / "samples" / "epoch_0001.png").is_file() and (run / "samples" / "index.html").is_file()


def test_tiled_translation_of_a_cut_run_matches_the_untiled_one(cut_run, tmp_path):
    run, _ = cut_run
    image = tmp_path / "in" / "wide.png"
    image.parent.mkdir()
    pixels = np.random.default_rng(0).integers(0, 256, (48, 80, 3), np.uint8)
    Image.fromarray(pixels).save(image)
    assert main(["-q", "translate", "--checkpoint", str(run), "--input", str(image), "--output",
                 str(tmp_path / "whole")]) == 0
    assert main(["-q", "translate", "--checkpoint", str(run), "--input", str(image), "--output",
                 str(tmp_path / "tiled"), "--tile", "32", "--overlap", "8"]) == 0
    whole, tiled = (np.asarray(Image.open(tmp_path / name / "wide.png"), np.float32) for name in ("whole", "tiled"))
    assert whole.shape == tiled.shape == (48, 80, 3)
    # instance norm takes the whole image's statistics in every tile: only the blend at the seams differs
    assert np.abs(whole - tiled).mean() < 3.0, np.abs(whole - tiled).mean()


def test_evaluate_a_cut_run_on_paired_data(cut_run, tmp_path):
    run, _ = cut_run
    paired = write_synthetic_dataset(tmp_path / "paired", n_train=1, n_test=2, size=32, seed=0)
    out = tmp_path / "eval.json"
    assert main(["-q", "evaluate", "--checkpoint", str(run), "--data", str(paired), "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["count"] == 2 and result["direction"] == "AtoB"
    assert np.isfinite(result["mean"]["psnr"]) and 0 < result["mean"]["l1"] <= 2


def test_a_cut_run_exports_every_tflite_kind_and_the_web_page(cut_run, tmp_path):
    run, data = cut_run
    assert main(["-q", "export", str(run), "--out", str(tmp_path / "export"), "--tflite", "--quantize",
                 "float16,int8", "--representative-data", str(data / "testA"), "--image-size", "32"]) == 0
    files = json.loads((tmp_path / "export" / "metadata.json").read_text())["tflite"]["files"]
    assert set(files) >= {"generator_float16.tflite", "generator_int8.tflite"}, set(files)
    for name, entry in files.items():
        assert entry["xnnpack"]["fully_delegated"] and entry["xnnpack"]["partitions"] == 1, (name, entry["xnnpack"])
    assert main(["-q", "export", str(run), "--web", str(tmp_path / "site"), "--image-size", "32"]) == 0
    assert (tmp_path / "site" / "index.html").is_file() and list((tmp_path / "site").glob("*.tflite"))
