"""What a run writes for people watching it: TensorBoard events, preview gallery, checkpoints, NaN guard."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tfgan_translate.config import CycleGANConfig, Pix2PixConfig
from tfgan_translate.training import RunCheckpoint, TrainingDiverged, train
from tfgan_translate.training.checkpoints import LATEST

TINY = dict(image_size=32, load_size=36, netG="unet_32", ngf=4, ndf=4, batch_size=2, steps_per_epoch=3, epochs=2,
            precision="float32", strategy="none", validation_steps=1)


def _events(folder):
    accumulator = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    accumulator.Reload()
    return accumulator


def _plugin(accumulator, tag):
    return accumulator.SummaryMetadata(tag).plugin_data.plugin_name



@pytest.fixture
def p2p_run(tiny_run):
    """The session's shared run (conftest.tiny_run: log_every=1, sample_every=2, checkpoint_every=2, keep 2)."""
    return tiny_run


def test_tensorboard_has_every_loss_per_step_and_epoch_lrs_and_validation(p2p_run):
    logs = p2p_run / "logs"
    train_events = _events(logs / "train")
    tags = set(train_events.Tags()["tensors"])
    for term in ("g_loss", "g_l1_loss", "g_gan_loss", "d_loss", "d_real_loss", "d_fake_loss", "d_real", "d_fake"):
        assert f"step/{term}" in tags and f"epoch/{term}" in tags, term
    for name in ("generator", "discriminator"):
        assert f"step/learning_rate/{name}" in tags and f"epoch/learning_rate/{name}" in tags
    steps = [event.step for event in train_events.Tensors("step/g_loss")]
    assert steps == list(range(1, 7))  # log_every=1, 2 epochs x 3 steps, global step numbers
    values = [float(tf.make_ndarray(e.tensor_proto)) for e in train_events.Tensors("epoch/d_real")]
    assert len(values) == 2 and all(0.0 <= v <= 1.0 for v in values)  # a probability for the vanilla GAN
    assert _plugin(train_events, "step/g_loss") == "scalars"

    validation = _events(logs / "validation")
    assert {"epoch/l1", "epoch/psnr", "epoch/ssim"} <= set(validation.Tags()["tensors"])


def test_tensorboard_images_and_hparams(p2p_run):
    logs = p2p_run / "logs"
    samples = _events(logs / "samples")
    assert _plugin(samples, "samples") == "images"
    # every 2 steps (2, 4, 6) and at each epoch end (3, 6)
    assert sorted(e.step for e in samples.Tensors("samples")) == [2, 3, 4, 6, 6]
    root = _events(logs)
    hparam_tags = [t for t in root.Tags()["tensors"] if _plugin(root, t) == "hparams"]
    assert hparam_tags, root.Tags()


def test_png_gallery_newest_first(p2p_run):
    samples = p2p_run / "samples"
    assert sorted(p.name for p in samples.glob("*.png")) == ["epoch_0001.png", "epoch_0002.png"]
    page = (samples / "index.html").read_text()
    assert page.index("epoch_0002.png") < page.index("epoch_0001.png")
    assert "epoch 2" in page and "epoch 1" in page


def test_checkpoints_keep_k_and_latest(p2p_run):
    folder = p2p_run / "checkpoints"
    kept = sorted(p.name for p in folder.glob("*.keras") if p.name != LATEST)
    assert len(kept) == 2 and "epoch_0002.keras" in kept, kept
    latest = keras.saving.load_model(folder / LATEST)
    assert int(latest.g_optimizer.iterations) == 6
    assert json.loads((p2p_run / "config.json").read_text())["keep_checkpoints"] == 2


class _Poison(keras.callbacks.Callback):
    """Sets a generator weight to NaN after the given optimizer step."""

    def __init__(self, at_step):
        super().__init__()
        self.at_step = at_step

    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.g_optimizer.iterations) == self.at_step:
            weight = self.model.generator.trainable_weights[0]
            weight.assign(np.full(weight.shape, np.nan, np.float32))


def test_nan_stops_training_and_keeps_last_good_checkpoint(synth_train_only, tmp_path):
    config = Pix2PixConfig(data=str(synth_train_only), **TINY).replace(epochs=3)
    with pytest.raises(TrainingDiverged, match=r"Training diverged: \w+_loss = nan at epoch 2"):
        train(config, tmp_path / "run", callbacks=[_Poison(at_step=4)], verbose=0)
    latest = keras.saving.load_model(tmp_path / "run" / "checkpoints" / LATEST)
    assert int(latest.g_optimizer.iterations) == 3  # the end of epoch 1, before the poisoned step
    assert all(np.isfinite(w.numpy()).all() for w in latest.generator.weights)
    assert not (tmp_path / "run" / "checkpoints" / "epoch_0002.keras").exists()


def test_validation_steps_limits_the_validation_batches(synth_dir, tmp_path):
    """`config.validation_steps` (--validation-steps) reaches fit: 1 of the test split's 2 batches per epoch."""

    class CountValidationBatches(keras.callbacks.Callback):
        batches = 0

        def on_test_batch_end(self, batch, logs=None):
            self.batches += 1

    counter = CountValidationBatches()
    config = Pix2PixConfig(data=str(synth_dir), **{**TINY, "epochs": 1, "steps_per_epoch": 1})
    assert config.validation_steps == 1 and config.batch_size == 2  # synth_dir's test split: 4 images, 2 batches
    train(config, tmp_path / "run", callbacks=[counter], verbose=0)
    assert counter.batches == 1


def test_crash_while_writing_a_checkpoint_keeps_the_previous_one(tmp_path, monkeypatch):
    from conftest import tiny_pix2pix

    model = tiny_pix2pix("l1")
    saver = RunCheckpoint(tmp_path)
    saver.set_model(model)
    saver.on_epoch_end(0, {"g_loss": 1.0})
    before = (tmp_path / LATEST).read_bytes()

    def broken_save(self, path, *args, **kwargs):
        with open(path, "wb") as partial:
            partial.write(b"half a zip file")
        raise OSError("disk full")

    monkeypatch.setattr(keras.Model, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        saver.on_epoch_end(1, {"g_loss": 1.0})
    monkeypatch.undo()
    assert (tmp_path / LATEST).read_bytes() == before
    assert not (tmp_path / "epoch_0002.keras").exists()
    assert int(keras.saving.load_model(tmp_path / LATEST).g_optimizer.iterations) == 0


def test_cyclegan_grids_and_logs(synth_train_only, tmp_path):
    config = CycleGANConfig(data=str(synth_train_only), **{**TINY, "netG": "resnet_1blocks", "epochs": 1},
                            pool_size=2, log_every=1)
    result = train(config, tmp_path / "cyc", verbose=0)
    tags = set(_events(result.run_dir / "logs" / "train").Tags()["tensors"])
    for term in ("gen_loss", "g_gan_loss", "f_gan_loss", "cycle_a_loss", "cycle_b_loss", "identity_a_loss",
                 "identity_b_loss", "d_a_loss", "d_b_loss"):
        assert f"step/{term}" in tags and f"epoch/{term}" in tags, term
    assert (result.run_dir / "samples" / "epoch_0001.png").is_file()
