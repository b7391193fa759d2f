"""Stop and resume: a run killed with SIGKILL mid-epoch and resumed ends where an uninterrupted run ends.

Each run is a separate `tfgan-translate train` process with op determinism on
(TF_DETERMINISTIC_OPS=1), on CPU, in float32. The resumed run restores the
networks, both optimizers (and so the learning-rate schedule), CycleGAN's
image pools, the counters of every random stream (dropout, pool) and the
position in the data stream; the final weights must match the uninterrupted
run's to 1e-6.
"""

import os
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

import tfgan_translate.accelerate  # registers FusedAdam for load_model
import tfgan_translate.models  # noqa: F401  (registers the classes for load_model)
from tfgan_translate.training.checkpoints import load_newest_checkpoint

STEPS, EPOCHS, EVERY = 6, 2, 3  # checkpoint every 3 steps, kill in epoch 1, resume across the epoch boundary
COMMON = {
    # depth-6 U-Net at 64 px: one decoder dropout layer, so the resumed noise stream is exercised
    "pix2pix": ["--image-size", "64", "--load-size", "72", "--netG", "unet_64", "--ngf", "4", "--ndf", "4"],
    "cyclegan": ["--image-size", "32", "--load-size", "36", "--netG", "resnet_1blocks", "--ngf", "4", "--ndf", "4",
                 "--pool-size", "3"],
}


def _command(model, data, run, *extra):
    return [sys.executable, "-m", "tfgan_translate", "-q", "train", model, "--data", str(data), "--out", str(run),
            *COMMON[model], "--epochs", str(EPOCHS), "--steps-per-epoch", str(STEPS), "--batch-size", "2",
            "--checkpoint-every", str(EVERY), "--precision", "float32", "--strategy", "none", "--validation-steps", "1",
            "--seed", "3", *extra]


def _env():
    return {**os.environ, "TF_DETERMINISTIC_OPS": "1", "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}


def _weights(run):
    model = keras.saving.load_model(run / "checkpoints" / "latest.keras")
    return model, [w.numpy() for w in model.weights]


@pytest.mark.parametrize("model", ["pix2pix", "cyclegan"])
def test_sigkill_mid_epoch_then_resume_matches_uninterrupted(model, synth_dir, tmp_path):
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    uninterrupted = subprocess.Popen(_command(model, synth_dir, straight), env=_env(), stdout=subprocess.DEVNULL)
    process = subprocess.Popen(_command(model, synth_dir, killed), env=_env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    marker = killed / "checkpoints" / f"step_{EVERY:08d}.keras"  # mid-epoch 1 (STEPS steps an epoch)
    deadline = time.monotonic() + 240
    while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    process.kill()  # SIGKILL: no cleanup, no final save
    assert process.wait(timeout=30) == -9, "the run finished or failed before it could be killed"
    assert not (killed / "metrics.json").exists()
    # The kill may land between the step checkpoint and latest.keras: read the run as --resume does.
    _, interrupted = load_newest_checkpoint(killed)
    interrupted_at = int(interrupted.g_optimizer.iterations)
    assert interrupted_at < STEPS * EPOCHS

    subprocess.run(_command(model, synth_dir, killed, "--resume"), env=_env(), check=True, timeout=300,
                   stdout=subprocess.DEVNULL)
    assert uninterrupted.wait(timeout=300) == 0
    reference, expected = _weights(straight)
    resumed, actual = _weights(killed)
    assert int(resumed.g_optimizer.iterations) == int(reference.g_optimizer.iterations) == STEPS * EPOCHS
    assert len(actual) == len(expected)
    worst = max(float(np.max(np.abs(a.astype(np.float64) - e))) for a, e in zip(actual, expected))
    assert worst <= 1e-6, f"resumed from step {interrupted_at}: max weight difference {worst}"
    for name in ("g_optimizer", "d_optimizer"):
        for a, e in zip(getattr(resumed, name).variables, getattr(reference, name).variables):
            np.testing.assert_allclose(a.numpy(), e.numpy(), atol=1e-6)


def test_cyclegan_pools_round_trip_exactly_under_mixed_bfloat16(tmp_path):
    """A CycleGAN checkpointed under mixed_bfloat16 and reloaded (as `--resume` does, under the float32 global
    policy) continues with the same image pools, bit for bit.

    The pools were made under the global policy: under mixed_bfloat16 each stored image was rounded to
    bfloat16 (inputs are cast to a layer's compute dtype), while the pools rebuilt from the checkpoint
    computed in float32, so the resumed run's pools drifted (up to 0.0019) from an uninterrupted run's.
    """
    from conftest import random_pairs, tiny_cyclegan

    from tfgan_translate.training.precision import precision_scope

    x, y = random_pairs(n=4, size=32)
    with precision_scope("mixed_bfloat16"):
        model = tiny_cyclegan(pool_size=3)
    model.run_eagerly = True  # two steps: cheaper than tracing them
    model.fit(x, y, batch_size=2, epochs=1, verbose=0, shuffle=False)  # 2 steps: pools full, swaps drawn
    model.save(tmp_path / "checkpoint.keras")
    reloaded = keras.saving.load_model(tmp_path / "checkpoint.keras")
    for name in ("pool_a", "pool_b"):
        before, after = getattr(model, name), getattr(reloaded, name)
        np.testing.assert_array_equal(after.images.numpy(), before.images.numpy())
        assert int(after.count.numpy()) == int(before.count.numpy()) == 3

    # The next fakes enter both pools (full: each image is swapped in or passed on by the saved draw
    # counter) and must be stored, and returned, identically.
    fakes = keras.random.uniform((2, 32, 32, 3), -1.0, 1.0, seed=7)
    for name in ("pool_a", "pool_b"):
        before, after = getattr(model, name), getattr(reloaded, name)
        np.testing.assert_array_equal(after(fakes).numpy(), before(fakes).numpy())
        np.testing.assert_array_equal(after.images.numpy(), before.images.numpy())
        assert after.images.dtype == before.images.dtype == "float32"
        assert after.dtype_policy.name == before.dtype_policy.name == "float32"  # under every global policy
