"""Shared test harness: tiny models, tiny datasets, one tiny trained run, the real facades set when present.

- `tiny_pix2pix(...)` / `tiny_cyclegan(...)`: compiled models small enough for CPU tests (32 px, 8 filters).
- `synth_dir`: the built-in synthetic facades at 32 px (session-scoped).
- `tiny_run`: one pix2pix run folder trained once per session through the command line, with per-step
  logging, preview grids and extra checkpoints, shared by the CLI, monitoring and evaluate tests. Tests read
  it and never write into it.
- `facades_or_skip()`: the real facades set, or a skip saying why.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Several test processes share a GPU where there is one: each takes memory as it needs it, not all of it.
os.environ.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")

import keras
import numpy as np
import pytest

FACADES = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "facades"


def facades_or_skip() -> Path:
    """The real facades set (../shared/datasets/facades), or a skip saying why."""
    if not (FACADES / "train").is_dir():
        pytest.skip(f"real facades set not found at {FACADES} (it sits in ../shared beside the repository)")
    return FACADES


def tiny_pix2pix(objective="l1+cgan", gan_mode="vanilla", norm="batch", dropout=0.5, channels=(3, 3),
                 depth=5, lr=2e-4, compile=True):
    """A compiled Pix2Pix small enough for CPU tests (32x32 images, ngf=ndf=8)."""
    from tfgan_translate import PatchGANDiscriminator, Pix2Pix, UNetGenerator

    c_in, c_out = channels
    g = UNetGenerator(depth=depth, input_channels=c_in, output_channels=c_out, ngf=8, norm=norm, dropout=dropout)
    d = None
    if objective != "l1":
        d = PatchGANDiscriminator(input_channels=c_out, condition_channels=c_in if objective.endswith("cgan") else 0,
                                ndf=8, n_layers=2, norm=norm)
    model = Pix2Pix(g, d, objective=objective, gan_mode=gan_mode)
    if compile:
        model.compile(g_optimizer=keras.optimizers.Adam(lr, beta_1=0.5),
                      d_optimizer=keras.optimizers.Adam(lr, beta_1=0.5) if d is not None else None)
    return model


def tiny_cyclegan(pool_size=4, lambda_identity=0.5, channels=(3, 3), size=32, lr=2e-4):
    """A compiled CycleGAN small enough for CPU tests (1 residual block, ngf=ndf=8)."""
    from tfgan_translate import CycleGAN, PatchGANDiscriminator, ResNetGenerator

    c_a, c_b = channels
    kw = dict(n_blocks=1, ngf=8)
    g = ResNetGenerator(input_channels=c_a, output_channels=c_b, **kw)
    f = ResNetGenerator(input_channels=c_b, output_channels=c_a, **kw)
    d_a = PatchGANDiscriminator(input_channels=c_a, condition_channels=0, ndf=8, n_layers=2, norm="instance")
    d_b = PatchGANDiscriminator(input_channels=c_b, condition_channels=0, ndf=8, n_layers=2, norm="instance")
    model = CycleGAN(g, f, d_a, d_b, pool_size=pool_size, lambda_identity=lambda_identity, image_size=size)
    model.compile(g_optimizer=keras.optimizers.Adam(lr, beta_1=0.5), d_optimizer=keras.optimizers.Adam(lr, beta_1=0.5))
    return model


def random_pairs(n=2, size=32, channels=(3, 3), seed=0):
    """x in [-1, 1] and a target y that is a fixed smooth function of x."""
    rng = np.random.default_rng(seed)
    x = np.tanh(rng.normal(size=(n, size, size, channels[0]))).astype(np.float32)
    y = np.tanh(np.roll(x[..., ::-1], 1, axis=1) * 1.5)[..., : channels[1]].astype(np.float32)
    if y.shape[-1] < channels[1]:
        y = np.concatenate([y] * channels[1], axis=-1)[..., : channels[1]]
    return x, y


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory) -> Path:
    """A small built-in synthetic facades set (aligned, train/ + test/) at 32 px per half."""
    from tfgan_translate.data import write_synthetic_dataset

    return write_synthetic_dataset(tmp_path_factory.mktemp("synth") / "facades", n_train=12, n_test=4, size=32,
                                   seed=0)


@pytest.fixture(scope="session")
def synth_train_only(synth_dir, tmp_path_factory) -> Path:
    """synth_dir's train/ split alone. With no validation split a training traces no test step (about 40 % less
    time), for the tests about run folders, locks and checkpoints rather than validation; the runs still write
    checkpoints, logs and preview grids (of train images)."""
    data = tmp_path_factory.mktemp("train_only") / "facades"
    shutil.copytree(synth_dir / "train", data / "train")
    return data


# The shared run: `tfgan-translate train pix2pix` on `synth_dir`, 2 epochs x 3 steps of batch 2 at 32 px.
TINY_RUN_FLAGS = ["--image-size", "32", "--load-size", "36", "--netG", "unet_32", "--ngf", "8", "--ndf", "8",
                  "--epochs", "2", "--steps-per-epoch", "3", "--batch-size", "2", "--seed", "0",
                  "--validation-steps", "1", "--precision", "float32", "--strategy", "none",
                  "--log-every", "1", "--sample-every", "2", "--checkpoint-every", "2", "--keep-checkpoints", "2"]


@pytest.fixture(scope="session")
def tiny_run(synth_dir, tmp_path_factory) -> Path:
    """The session's one tiny trained pix2pix run folder (read-only for the tests that share it)."""
    from tfgan_translate.app.cli import main

    run = tmp_path_factory.mktemp("tiny_run") / "run"
    assert main(["-q", "train", "pix2pix", "--data", str(synth_dir), "--out", str(run), *TINY_RUN_FLAGS]) == 0
    return run


# Test modules whose module-scoped fixtures cost seconds (a trained run, an export, subprocess rigs). Under
# pytest-xdist (setup.cfg: --dist loadgroup) each runs on one worker, so its fixtures are built once.
ONE_WORKER = {"test_cut", "test_cut_cli", "test_distribute", "test_export", "test_export_delegation",
              "test_export_safety", "test_export_web", "test_gallery_browser", "test_hostile_folders",
              "test_inference_mode", "test_reference_import", "test_reference_pth", "test_run_folder_safety",
              "test_translate_safety"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    for item in items:
        if item.module.__name__ in ONE_WORKER:
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(0)
    yield
