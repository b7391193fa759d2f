"""Issue 20, item 5: one test-time setting (dropout on/off, batch norm on each image's or the moving statistics),
the same defaults in translate, evaluate, export and the Python API.

Each mode is checked against a recomputation of the network layer by layer (Keras layers for the convolutions,
NumPy for batch norm and dropout); the imported U-Net of the reference's fixtures (tests/fixtures/reference/
networks/unet64_batch_dropout: PyTorch's eval-mode output `y` for input `x`) against PyTorch in eval mode; and one
run through the command line (translate, evaluate, export: SavedModel and TFLite) against the Python API.
"""

from __future__ import annotations

import gc
import json
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tfgan_translate.app.cli import build_parser, main
from tfgan_translate.choices import EVAL_MODE, PAPER_MODE, InferenceMode
from tfgan_translate.config import CycleGANConfig, Pix2PixConfig
from tfgan_translate.inference import translate_array
from tfgan_translate.inference_mode import (
    ImageStatisticsNormalization,
    InferenceDropout,
    inference_generator,
    inference_mode_of,
    remember_run_mode,
)
from tfgan_translate.networks import NoiseDropout, UNetGenerator, build_generator
from tfgan_translate.reference.option_mapping import options_to_config_fields
from tfgan_translate.rng import name_seed
from tfgan_translate.tiling import translate_tiled
from tfgan_translate.training.run import load_run

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "reference" / "networks"
MODES = [InferenceMode(d, b) for d in ("on", "off") for b in ("image", "moving")]
SEED = 7


def calibrated(generator, size, seed=0, steps=12):
    """`generator` with moving statistics from images (training-mode calls) and non-trivial scales and offsets."""
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        generator(rng.uniform(-1, 1, (2, size, size, generator.input_shape[-1])).astype(np.float32), training=True)
    for layer in generator.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.gamma.assign(rng.normal(1.0, 0.3, layer.gamma.shape))
            layer.beta.assign(rng.normal(0.0, 0.2, layer.beta.shape))
    return generator


def recompute(generator, x, mode: InferenceMode, seed: int | None = None) -> np.ndarray:
    """The generator's output in `mode`, layer by layer: its own Keras layers for everything but batch norm and
    dropout, which are computed here (NumPy; dropout masks `stateless_uniform((seed, name_seed(name))) >= rate`)."""
    values = {id(t): np.asarray(x, np.float32) for t in generator.inputs}
    for layer in generator.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        inputs = [values[id(t)] for t in keras.tree.flatten(layer.input)]
        h = inputs[0].astype(np.float64)
        if isinstance(layer, keras.layers.BatchNormalization):
            if mode.batch_norm == "image":  # each image's own mean and biased variance over height and width
                mean, variance = h.mean(axis=(1, 2), keepdims=True), h.var(axis=(1, 2), keepdims=True)
            else:
                mean, variance = layer.moving_mean.numpy(), layer.moving_variance.numpy()
            out = (h - mean) / np.sqrt(variance + layer.epsilon) * layer.gamma.numpy() + layer.beta.numpy()
        elif isinstance(layer, NoiseDropout):
            out = h
            if mode.dropout == "on":
                noise = tf.random.stateless_uniform(h.shape, seed=(seed, name_seed(layer.name))).numpy()
                out = h * (noise >= layer.rate) / (1.0 - layer.rate)
        else:
            out = np.asarray(layer(inputs if len(inputs) > 1 else inputs[0]))
        values[id(layer.output)] = np.asarray(out, np.float32)
    return values[id(generator.outputs[0])]


@pytest.fixture(scope="module")
def unet():
    """A U-Net with batch norm and two dropout layers (depth 7), statistics from images, scales perturbed."""
    keras.utils.set_random_seed(1)
    return calibrated(UNetGenerator(depth=7, ngf=4, init_gain=0.1), 128)


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(3).uniform(-1, 1, (2, 128, 128, 3)).astype(np.float32)


# ------------------------------------------------------------------ the four modes, computed
@pytest.mark.parametrize("mode", MODES, ids=lambda m: f"dropout_{m.dropout}-bn_{m.batch_norm}")
def test_each_mode_equals_a_layer_by_layer_recomputation(unet, images, mode):
    before = [w.numpy().copy() for w in unet.weights]
    copy = inference_generator(unet, mode.dropout, mode.batch_norm, seed=SEED)
    expected = recompute(unet, images, mode, seed=SEED)
    assert expected.std() > 0.05  # not a constant image
    np.testing.assert_allclose(copy(images), expected, atol=2e-5)
    np.testing.assert_allclose(copy(images, training=True), expected, atol=2e-5)  # training=True changes nothing
    if mode.dropout == "off":  # one image alone gets what it gets in a batch (the reference's test.py: batches of 1)
        np.testing.assert_allclose(copy(images[1:]), expected[1:], atol=2e-5)
    assert all(np.array_equal(w.numpy(), b) for w, b in zip(unet.weights, before, strict=True))  # nothing updated
    assert copy.inference_mode == mode and copy.input_shape == (None, None, None, 3)
    assert sum(isinstance(layer, ImageStatisticsNormalization) for layer in copy.layers) == \
        (11 if mode.batch_norm == "image" else 0)
    assert sum(isinstance(layer, InferenceDropout) for layer in copy.layers) == (2 if mode.dropout == "on" else 0)


def test_eval_mode_is_the_keras_graph_without_dropout(unet, images):
    g = UNetGenerator(depth=7, ngf=4)
    g.set_weights(unet.get_weights())
    for layer in g.layers:
        if isinstance(layer, NoiseDropout):
            layer.at_inference = False
    np.testing.assert_allclose(inference_generator(g, "off", "moving")(images), g(images, training=False),
                               atol=1e-6)
    np.testing.assert_allclose(inference_generator(g, "off", "moving", float32=True)(images),
                               g(images, training=False), atol=1e-6)


def test_dropout_on_draws_new_noise_unless_seeded(unet, images):
    fresh = inference_generator(unet)
    assert fresh.inference_mode == PAPER_MODE  # the default
    assert np.abs(np.asarray(fresh(images)) - np.asarray(fresh(images))).max() > 1e-3
    seeded = inference_generator(unet, seed=SEED)
    np.testing.assert_array_equal(seeded(images), seeded(images))
    np.testing.assert_allclose(inference_generator(unet, seed=SEED, float32=True)(images), seeded(images), atol=1e-5)
    assert np.abs(np.asarray(inference_generator(unet, seed=SEED + 1)(images)) - np.asarray(seeded(images))).max() \
        > 1e-3
    off = inference_generator(unet, "off")
    np.testing.assert_array_equal(off(images), off(images))
    x = images[0]
    np.testing.assert_array_equal(translate_array(unet, x, seed=SEED), translate_array(unet, x, seed=SEED))


def test_copies_share_the_trained_weights_and_stand_for_their_generator(images):
    g = calibrated(UNetGenerator(depth=7, ngf=4, init_gain=0.1), 128)
    copy = inference_generator(g, "off", "image")
    assert inference_generator(g, "off", "image") is copy  # one copy per setting
    assert inference_generator(copy) is copy and inference_generator(copy, test_batch_norm="moving") is \
        inference_generator(g, "off", "moving")  # a copy stands for its generator, its settings the defaults
    assert [type(layer).__name__ for layer in g.layers].count("BatchNormalization") == 11  # g is untouched
    before = np.asarray(copy(images))
    g.get_layer("up7_norm").gamma.assign(g.get_layer("up7_norm").gamma * 2.0)  # trained further: the copy follows
    g.get_layer("up1_conv").kernel.assign(g.get_layer("up1_conv").kernel * 0.5)
    assert np.abs(np.asarray(copy(images)) - before).max() > 1e-2
    np.testing.assert_allclose(copy(images), recompute(g, images, InferenceMode("off", "image")), atol=2e-5)
    with pytest.raises(ValueError, match="test_dropout"):
        inference_generator(g, "sometimes")
    with pytest.raises(ValueError, match="seed"):
        inference_generator(g, seed=-1)
    with pytest.raises(ValueError, match="Expected None"):  # an export runs as it was exported
        translate_array(lambda batch: batch, images[0], 4, test_dropout="off")


def test_a_copy_keeps_its_trained_generator_alive_through_a_garbage_collection(imported_run, images):
    """A caller may keep only the copy (evaluate's `_run_translator` does): its generator must outlive a collection."""
    from tfgan_translate.evaluation.run import _run_translator

    g = calibrated(UNetGenerator(depth=7, ngf=4, init_gain=0.1), 128)
    copy, expected = inference_generator(g, "off", "image"), recompute(g, images, InferenceMode("off", "image"))
    del g
    gc.collect()
    np.testing.assert_allclose(translate_array(copy, images[0]), expected[0], atol=2e-5)
    assert inference_generator(copy, test_batch_norm="moving").inference_mode == EVAL_MODE
    translate = _run_translator(imported_run, "pad", "off", "image", None)[0]
    gc.collect()
    assert translate(np.zeros((64, 64, 1), np.float32)).shape == (64, 64, 1)


def test_the_default_is_the_papers_everywhere_and_a_runs_setting_wins(images):
    assert (Pix2PixConfig().test_dropout, Pix2PixConfig().test_batch_norm) == ("on", "image")
    assert InferenceMode.of(CycleGANConfig()) == PAPER_MODE == InferenceMode()
    eval_run = Pix2PixConfig(test_dropout="off", test_batch_norm="moving")
    assert InferenceMode.of(eval_run) == EVAL_MODE and InferenceMode.of(eval_run, test_dropout="on").dropout == "on"
    assert Pix2PixConfig.from_dict({k: v for k, v in Pix2PixConfig().to_dict().items()
                                    if not k.startswith("test_")}).test_dropout == "on"  # a run saved before
    g = UNetGenerator(depth=7, ngf=4)
    assert inference_mode_of(g) == PAPER_MODE
    model = type("Run", (), {"generator": g})()
    remember_run_mode(model, eval_run)  # what load_run does: the run's setting is its generator's default
    assert inference_mode_of(g) == EVAL_MODE and inference_generator(g).inference_mode == EVAL_MODE
    np.testing.assert_array_equal(translate_array(g, images[0]), translate_array(g, images[0]))  # deterministic
    # translate, evaluate and export take the same flags, unset (None: the run's), with the same choices;
    # train sets the run's default
    parser = build_parser()
    for command in (["translate", "--checkpoint", "r", "--input", "i", "--output", "o"], ["export", "r"],
                    ["evaluate", "--checkpoint", "r", "--data", "d"], ["train", "pix2pix", "--out", "r"]):
        unset = parser.parse_args(command)
        assert (unset.test_dropout, unset.test_batch_norm) == (None, None), command
        given = parser.parse_args([*command, "--test-dropout", "off", "--test-batch-norm", "moving"])
        assert (given.test_dropout, given.test_batch_norm) == ("off", "moving"), command
        for wrong in (["--test-dropout", "yes"], ["--test-batch-norm", "batch"]):
            with pytest.raises(SystemExit):
                parser.parse_args([*command, *wrong])


def test_a_reference_options_file_with_eval_maps_to_the_eval_mode():
    assert options_to_config_fields({"model": "pix2pix", "eval": True}).fields == {
        "test_dropout": "off", "test_batch_norm": "moving"}
    mapped = options_to_config_fields({"model": "pix2pix", "eval": False})
    assert mapped.fields == {"test_dropout": "on", "test_batch_norm": "image"} and not mapped.notes


# ------------------------------------------------------------------ tiles: the whole image's statistics
def test_tiles_normalise_with_the_whole_images_statistics():
    keras.utils.set_random_seed(2)
    g = calibrated(build_generator("resnet_2blocks", ngf=8, norm="batch"), 64)
    rng = np.random.default_rng(5)
    cells = rng.uniform(-1, 1, (8, 8, 3)).astype(np.float32)
    x = np.clip(tf.image.resize(cells[None], (192, 192), method="bicubic")[0].numpy(), -1, 1)
    whole = translate_array(g, x, test_dropout="off", memory_budget=None)
    tiled = translate_array(g, x, test_dropout="off", tile=96, overlap=32, memory_budget=None)
    copy = inference_generator(g, "off", "image")
    own = translate_tiled(lambda batch, training=False: np.asarray(copy(batch)), x, tile=96, overlap=32,
                          multiple=4)  # a plain callable: each tile its own statistics
    tiled_error, own_error = np.abs(tiled - whole).mean(), np.abs(own - whole).mean()
    print(f"mean |tiled - whole|: whole-image statistics {tiled_error:.4f}, each tile's own {own_error:.4f}, "
          f"output std {whole.std():.3f}")
    assert whole.std() > 0.1 and tiled_error < 0.01 and tiled_error < own_error / 3
    moving = translate_array(g, x, test_dropout="off", test_batch_norm="moving", memory_budget=None)
    assert np.abs(moving - whole).mean() > 0.02  # the two statistics differ: the test is about something


# ------------------------------------------------------------------ the reference's U-Net, and every path
@pytest.fixture(scope="module")
def imported_run(tmp_path_factory):
    """unet64_batch_dropout (unet_64, batch norm, dropout, 1 -> 1 channels, ngf 1) imported as a run folder."""
    run = tmp_path_factory.mktemp("imported") / "run"
    assert main(["-q", "import", str(FIXTURES / "unet64_batch_dropout.pth"), "--out", str(run), "--netG", "unet_64",
                 "--norm", "batch", "--ngf", "1", "--input-channels", "1", "--output-channels", "1"]) == 0
    return run


def test_an_imported_run_runs_as_the_references_test_py_and_its_eval_mode_is_pytorchs(imported_run):
    saved = json.loads((imported_run / "config.json").read_text())
    assert (saved["test_dropout"], saved["test_batch_norm"]) == ("on", "image")  # test.py without --eval
    config, model = load_run(imported_run)
    assert InferenceMode.of(config) == inference_mode_of(model.generator) == PAPER_MODE  # load_run records it
    with np.load(FIXTURES / "unet64_batch_dropout.npz", allow_pickle=False) as data:
        x, y = data["x"], data["y"]
    for float32 in (False, True):
        eval_copy = inference_generator(model.generator, "off", "moving", float32=float32)
        assert np.abs(np.asarray(eval_copy(x)) - y).max() <= 1e-4  # PyTorch's model.eval() output
    for mode in MODES:
        np.testing.assert_allclose(inference_generator(model.generator, mode.dropout, mode.batch_norm, seed=SEED)(x),
                                   recompute(model.generator, x, mode, seed=SEED), atol=2e-5)


def _write_gray(path: Path, array: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode="L").save(path)
    return path


def _read(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path), np.float32)[..., None] / 127.5 - 1.0


@pytest.mark.parametrize("mode", [InferenceMode("off", "image"), EVAL_MODE], ids=["off-image", "off-moving"])
def test_translate_evaluate_and_export_give_the_python_apis_numbers(imported_run, tmp_path, capsys, mode):
    rng = np.random.default_rng(11)
    inputs = [rng.integers(0, 256, (64, 64), dtype=np.uint8) for _ in range(2)]
    for i, a in enumerate(inputs):
        _write_gray(tmp_path / "in" / f"{i}.png", a)
        _write_gray(tmp_path / "data" / "test" / f"{i}.png", np.concatenate([a, 255 - a], axis=1))  # A | B
    _, model = load_run(imported_run)
    expected = [translate_array(model.generator, a[..., None] / 127.5 - 1.0, test_dropout=mode.dropout,
                                test_batch_norm=mode.batch_norm) for a in inputs]
    assert not np.allclose(expected[0], translate_array(model.generator, inputs[0][..., None] / 127.5 - 1.0,
                                                        test_dropout="off", test_batch_norm="moving"
                                                        if mode.batch_norm == "image" else "image"), atol=0.02)
    flags = ["--test-dropout", mode.dropout, "--test-batch-norm", mode.batch_norm]
    eight_bit = 0.5 / 127.5 + 1e-5  # one rounding to 8 bits

    assert main(["-q", "translate", "--checkpoint", str(imported_run), "--input", str(tmp_path / "in"),
                 "--output", str(tmp_path / "out"), *flags]) == 0
    for i, y in enumerate(expected):
        np.testing.assert_allclose(_read(tmp_path / "out" / f"{i}.png"), y, atol=eight_bit)

    assert main(["-q", "evaluate", "--checkpoint", str(imported_run), "--data", str(tmp_path / "data"),
                 "--report", str(tmp_path / "report"), *flags]) == 0
    for i, y in enumerate(expected):
        np.testing.assert_allclose(_read(tmp_path / "report" / "pred" / f"{i}.png"), y, atol=eight_bit)
    info = json.loads((tmp_path / "report" / "metrics.json").read_text())
    assert (info["test_dropout"], info["test_batch_norm"]) == (mode.dropout, mode.batch_norm)
    assert f"- test_batch_norm: `{mode.batch_norm}`" in (tmp_path / "report" / "report.md").read_text()

    assert main(["-q", "export", str(imported_run), "--out", str(tmp_path / "export"), "--image-size", "64",
                 *flags]) == 0
    meta = json.loads((tmp_path / "export" / "metadata.json").read_text())
    assert meta["inference"]["test_batch_norm"] == mode.batch_norm and meta["parity"]["tflite_float32"]["meets_target"]
    batch = np.stack([a[..., None] / 127.5 - 1.0 for a in inputs]).astype(np.float32)
    serve = tf.saved_model.load(str(tmp_path / "export" / "saved_model")).signatures["serving_default"]
    np.testing.assert_allclose(serve(image=tf.constant(batch))["output"].numpy(), np.stack(expected), atol=1e-5)
    from tfgan_translate.export import TFLiteRunner, load_export

    np.testing.assert_allclose(TFLiteRunner(tmp_path / "export" / "generator_float32.tflite")(batch),
                               np.stack(expected), atol=1e-4)
    assert load_export(tmp_path / "export").inference_mode == mode
    assert main(["-q", "translate", "--model", str(tmp_path / "export"), "--input", str(tmp_path / "in"),
                 "--output", str(tmp_path / "out-export"), *flags]) == 0
    capsys.readouterr()
    other = "on" if mode.dropout == "off" else "off"
    assert main(["-q", "translate", "--model", str(tmp_path / "export"), "--input", str(tmp_path / "in"),
                 "--output", str(tmp_path / "refused"), "--test-dropout", other]) == 2
    err = capsys.readouterr().err
    assert "--test-dropout" in err and f"exported with --test-dropout {mode.dropout}" in err, err
    assert not (tmp_path / "refused").exists()


def test_dropout_on_through_every_path_is_random_and_seedable(imported_run, tmp_path):
    from tfgan_translate.evaluation import evaluate_run
    from tfgan_translate.export import export_generator

    rng = np.random.default_rng(12)
    a = rng.integers(0, 256, (64, 64), dtype=np.uint8)
    _write_gray(tmp_path / "data" / "test" / "0.png", np.concatenate([a, a], axis=1))
    runs = [evaluate_run(imported_run, tmp_path / "data", seed=3).mean["l1"] for _ in range(2)]
    assert runs[0] == runs[1]  # the same masks: two evaluations agree
    result = export_generator(imported_run, tmp_path / "export", quantize=("none",), image_size=64)
    assert result.metadata["inference"]["test_dropout"] == "on" and result.metadata["inference"]["random"]
    assert "skipped" in result.metadata["parity"]
    from tfgan_translate.export import TFLiteRunner

    x = np.repeat((a[None, ..., None] / 127.5 - 1.0).astype(np.float32), 2, axis=0)
    y = TFLiteRunner(result.tflite["none"])(x)
    assert np.abs(y[0] - y[1]).max() > 1e-3  # RANDOM_UNIFORM in the file: new noise on every run
