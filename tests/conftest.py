"""Shared test helpers: tiny models, tiny datasets, the real facades set when present."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

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
    from tfgan_translate import Pix2Pix, patch_discriminator, unet_generator

    c_in, c_out = channels
    g = unet_generator(depth=depth, input_channels=c_in, output_channels=c_out, ngf=8, norm=norm, dropout=dropout)
    d = None
    if objective != "l1":
        d = patch_discriminator(input_channels=c_out, condition_channels=c_in if objective.endswith("cgan") else 0,
                                ndf=8, n_layers=2, norm=norm)
    model = Pix2Pix(g, d, objective=objective, gan_mode=gan_mode)
    if compile:
        model.compile(g_optimizer=keras.optimizers.Adam(lr, beta_1=0.5),
                      d_optimizer=keras.optimizers.Adam(lr, beta_1=0.5) if d is not None else None)
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


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(0)
    yield
