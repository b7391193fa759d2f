"""Exporting generators: SavedModel and TFLite files that serve without tfgan_translate and match Keras."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import FACADES, tiny_pix2pix
from PIL import Image

from tfgan_translate.app.cli import main
from tfgan_translate.choices import InferenceMode
from tfgan_translate.export import (
    export_generator,
    generator_for,
    inference_copy,
    load_export,
    read_metadata,
    translate_files_with_export,
)
from tfgan_translate.export import tflite as tflite_module
from tfgan_translate.export.representative import max_abs_diff, psnr
from tfgan_translate.export.savedmodel import pad_to_multiple
from tfgan_translate.export.subpixel import SubPixelConv2DTranspose, can_rewrite
from tfgan_translate.export.tflite_graph import SliceReflectionPadding2D, tflite_copy
from tfgan_translate.export.tflite_graph import describe as subpixel_describe
from tfgan_translate.networks import NoiseDropout, ReflectionPadding2D, ResNetGenerator, UNetGenerator

SIZE = 64  # unet_64: depth 6, one NoiseDropout layer (level 5)


# ---------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def small_facades(tmp_path_factory):
    """24 train + 4 test real facades pairs (../shared/datasets/facades), else the built-in synthetic set."""
    from tfgan_translate.data import list_images, write_synthetic_dataset

    root = tmp_path_factory.mktemp("facades_small")
    if not (FACADES / "train").is_dir():
        return write_synthetic_dataset(root / "synth", n_train=24, n_test=4, size=SIZE, seed=0)
    for split, count in (("train", 24), ("test", 4)):
        (root / split).mkdir()
        for path in list_images(FACADES / split)[:count]:
            shutil.copy(path, root / split / path.name)
    return root


@pytest.fixture(scope="module")
def run_dir(small_facades, tmp_path_factory):
    """A pix2pix run (labels -> photo, unet_64, ngf 8) trained for 30 steps: outputs with real structure."""
    from tfgan_translate.config import Pix2PixConfig
    from tfgan_translate.training.run import train

    config = Pix2PixConfig(data=str(small_facades), direction="BtoA", image_size=SIZE, load_size=72, netG="unet_64",
                           ngf=8, ndf=8, epochs=2, n_epochs_decay=0, steps_per_epoch=15, batch_size=2, lr=1e-3,
                           validation_steps=1, sample_count=2, seed=0,
                           precision="float32")  # the parity figures compare with float32 Keras outputs
    run = tmp_path_factory.mktemp("run") / "facades_p2p"
    train(config, run, verbose=0)
    return run


@pytest.fixture(scope="module")
def exported(run_dir, tmp_path_factory):
    """Every artefact: SavedModel + float32, float16 and int8 .tflite, calibrated on the run's training data.

    In the reference's --eval mode (dropout off, moving statistics): deterministic, so parity is measured."""
    out = tmp_path_factory.mktemp("exports") / "facades_p2p"
    return export_generator(run_dir, out, quantize=("none", "float16", "int8"), representative_count=16,
                            test_dropout="off", test_batch_norm="moving")


@pytest.fixture(scope="module")
def reference(run_dir, small_facades):
    """(x, keras_output): held-out label maps and the trained generator's deterministic output on them."""
    from tfgan_translate.data import paired_samples
    from tfgan_translate.training.run import load_run

    _, model = load_run(run_dir)
    for layer in model.generator.layers:
        if isinstance(layer, NoiseDropout):
            layer.at_inference = False  # before the first call: a fresh model, nothing traced yet
    x, _ = paired_samples(small_facades, split="test", count=4, direction="BtoA", image_size=SIZE)
    return x, np.asarray(model.generator(x, training=False)), model.generator  # = the eval mode's output


def _tflite_outputs(path, x, builtin_only=False):
    """Runs a .tflite file with ai_edge_litert's Interpreter, one image at a time; also returns its op names.

    With `builtin_only`, without the default XNNPACK delegate, so that the ops listed are the model's own.
    """
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    resolver = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES if builtin_only else OpResolverType.AUTO
    interpreter = Interpreter(model_path=str(path), experimental_op_resolver_type=resolver)
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    outputs = []
    for image in x:
        interpreter.set_tensor(inp["index"], image[None].astype(np.float32))
        interpreter.invoke()
        outputs.append(interpreter.get_tensor(out["index"])[0])
    ops = {op["op_name"] for op in interpreter._get_ops_details()}
    return np.stack(outputs), ops


def _tflite_ops(path) -> set[str]:
    """The builtin op names of a .tflite file (no delegate, no tensors allocated: any input size)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interpreter = Interpreter(model_path=str(path),
                              experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    return {op["op_name"] for op in interpreter._get_ops_details()}


# ---------------------------------------------------------------------------------------------- units
def test_mirror_padding_matches_numpy_reflect_at_any_size():
    rng = np.random.default_rng(0)
    for height, width in ((5, 7), (1, 3), (32, 32), (33, 2), (2, 65)):
        image = rng.normal(size=(1, height, width, 2)).astype(np.float32)
        padded = pad_to_multiple(tf.constant(image), 32).numpy()
        expected = image
        for axis, side in ((1, height), (2, width)):  # numpy reflects repeatedly; a 1-pixel side is repeated
            pads = [(0, 0)] * 4
            pads[axis] = (0, max(32, -(-side // 32) * 32) - side)
            expected = np.pad(expected, pads, mode="reflect" if side > 1 else "edge")
        np.testing.assert_array_equal(padded, expected)


@pytest.mark.parametrize("kernel_size, stride", [(4, 2), (3, 2), (2, 2), (5, 3)])
def test_subpixel_conv_equals_the_transposed_conv_it_replaces(kernel_size, stride):
    rng = np.random.default_rng(kernel_size)
    up = keras.layers.Conv2DTranspose(5, kernel_size, strides=stride, padding="same", bias_initializer="random_normal")
    sub = None
    for height, width in ((5, 7), (4, 4), (1, 1)):  # odd, even and single-pixel maps
        x = rng.normal(size=(2, height, width, 3)).astype(np.float32)
        expected = np.asarray(up(x))
        if sub is None:
            sub = SubPixelConv2DTranspose.replacing(up)
            sub.build(x.shape)
            sub.set_weights(up.get_weights())  # the same weights, in the same order
        actual = np.asarray(sub(x))
        assert actual.shape == expected.shape == (2, stride * height, stride * width, 5)
        assert max_abs_diff(expected, actual) <= 1e-5


def test_subpixel_conv_equals_a_valid_transposed_conv_and_its_crop():
    # The ResNet generator's up-convolution: PyTorch's ConvTranspose2d(3, stride=2, padding=1, output_padding=1).
    up = keras.layers.Conv2DTranspose(4, 3, strides=2, padding="valid", bias_initializer="random_normal")
    crop = keras.layers.Cropping2D(((1, 0), (1, 0)))
    x = np.random.default_rng(1).normal(size=(1, 5, 6, 3)).astype(np.float32)
    expected = np.asarray(crop(up(x)))
    assert can_rewrite(up, crop.cropping) and not can_rewrite(up) and not can_rewrite(up, ((0, 0), (1, 0)))
    sub = SubPixelConv2DTranspose.replacing(up, crop.cropping)
    sub.build(x.shape)
    sub.set_weights(up.get_weights())
    assert np.asarray(sub(x)).shape == expected.shape == (1, 10, 12, 4)
    assert max_abs_diff(expected, sub(x)) <= 1e-5
    with pytest.raises(ValueError, match="cannot be rewritten"):
        SubPixelConv2DTranspose.replacing(up)


def test_slice_reflection_padding_equals_reflection_padding():
    x = np.random.default_rng(0).normal(size=(2, 5, 7, 3)).astype(np.float32)
    for padding in (1, 3):
        expected = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)), mode="reflect")
        np.testing.assert_array_equal(np.asarray(SliceReflectionPadding2D(padding)(x)), expected)
        np.testing.assert_array_equal(np.asarray(ReflectionPadding2D(padding)(x)), expected)


def test_tflite_copy_rewrites_only_what_it_can_and_converts_faster_ops(tmp_path):
    g = UNetGenerator(depth=3, ngf=4, dropout=0.0, image_size=16)
    inputs = keras.Input((16, 16, 3))
    odd = keras.Model(inputs, keras.layers.Conv2DTranspose(2, 3, strides=2, padding="valid")(inputs))
    assert not can_rewrite(odd.layers[-1]) and tflite_copy(odd) is odd  # "valid" padding stays as it is
    assert subpixel_describe(odd, True) == "1 kept as TRANSPOSE_CONV"
    assert subpixel_describe(g, True).startswith("3 converted")
    assert subpixel_describe(g, False) == "3 kept as TRANSPOSE_CONV"
    copy = tflite_copy(g)
    assert copy is not g and sum(isinstance(layer, SubPixelConv2DTranspose) for layer in copy.layers) == 3
    x = np.random.default_rng(0).uniform(-1, 1, (1, 16, 16, 3)).astype(np.float32)
    assert max_abs_diff(g(x, training=False), copy(x, training=False)) <= 1e-5
    flatbuffers = {subpixel: tflite_module.convert(g, "none", image_size=(16, 16), subpixel=subpixel)["none"]
                   for subpixel in (True, False)}  # False: `export --keep-transpose-conv`
    outputs = {}
    for subpixel, content in flatbuffers.items():
        path = tmp_path / f"subpixel_{subpixel}.tflite"
        path.write_bytes(content)
        outputs[subpixel], ops = _tflite_outputs(path, x, builtin_only=True)
        assert ("TRANSPOSE_CONV" in ops) is not subpixel and ("DEPTH_TO_SPACE" in ops) is subpixel
    assert max_abs_diff(outputs[True], outputs[False]) <= 1e-5


def test_generator_for_picks_the_generator_of_a_direction():
    p2p = tiny_pix2pix(compile=False)
    assert generator_for(p2p) is p2p.generator and generator_for(p2p, "AtoB") is p2p.generator
    assert generator_for(p2p, "BtoA", trained_direction="BtoA") is p2p.generator
    with pytest.raises(ValueError, match="direction"):
        generator_for(p2p, "BtoA")
    g = ResNetGenerator(n_blocks=1, ngf=4, name="generator_g")
    f = ResNetGenerator(n_blocks=1, ngf=4, name="generator_f")
    cycle = type("FakeCycleGAN", (), {"generator_g": g, "generator_f": f})()
    assert generator_for(cycle) is g and generator_for(cycle, "BtoA") is f
    assert generator_for(cycle, "AtoB", trained_direction="BtoA") is f
    assert generator_for(g) is g
    with pytest.raises(ValueError, match="direction"):
        generator_for(g, "sideways")


def test_inference_copy_applies_the_test_time_mode_and_leaves_the_model_alone():
    g = UNetGenerator(depth=6, ngf=4, init_gain=0.3)
    x = np.random.default_rng(0).uniform(-1, 1, (1, SIZE, SIZE, 3)).astype(np.float32)
    off = inference_copy(g, "off")
    np.testing.assert_array_equal(off(x, training=False), off(x, training=False))
    on = inference_copy(g, "on")
    assert not np.array_equal(on(x, training=False), on(x, training=False))
    assert [layer.at_inference for layer in g.layers if isinstance(layer, NoiseDropout)] == [True]
    assert off.input_shape == (None, None, None, 3)
    assert inference_copy(g).inference_mode == InferenceMode("on", "image")  # the default everywhere
    with pytest.raises(ValueError, match="test_dropout"):
        inference_copy(g, "sometimes")
    with pytest.raises(ValueError, match="test_batch_norm"):
        inference_copy(g, "off", "batch")


def test_mixed_precision_generator_exports_as_float32():
    """A generator trained in mixed_bfloat16 is copied to float32: the export computes what its weights say."""
    from tfgan_translate.training.precision import precision_scope

    with precision_scope("mixed_bfloat16"):
        g = UNetGenerator(depth=6, ngf=4, init_gain=0.3, dropout=0.0)
    with precision_scope("float32"):
        g32 = UNetGenerator(depth=6, ngf=4, init_gain=0.3, dropout=0.0)
    g32.set_weights(g.get_weights())
    x = np.random.default_rng(0).uniform(-1, 1, (1, SIZE, SIZE, 3)).astype(np.float32)
    copy = inference_copy(g, "off", "moving")
    assert {layer.compute_dtype for layer in copy.layers if layer.weights} == {"float32"}
    np.testing.assert_allclose(copy(x, training=False), g32(x, training=False), atol=1e-5)
    assert max_abs_diff(g32(x, training=False), g(x, training=False)) > 1e-5  # bfloat16 rounding: a real difference


# ---------------------------------------------------------------------------------------------- the full export
def test_export_writes_every_artefact_with_metadata(exported, run_dir):
    names = sorted(p.name for p in exported.out_dir.iterdir())
    assert names == ["generator_float16.tflite", "generator_float32.tflite", "generator_int8.tflite",
                     "metadata.json", "saved_model"]
    assert (exported.out_dir / "saved_model" / "saved_model.pb").is_file()
    assert not [p for p in exported.out_dir.parent.iterdir() if p.name.startswith(".")]  # no staging left
    meta = read_metadata(exported.out_dir)
    assert meta == exported.metadata and meta["format"] == "tfgan_translate.export"
    assert meta["model"] == {"kind": "pix2pix", "direction": "BtoA", "trained_direction": "BtoA",
                             "input_domain": "B", "generator": "unet_64", "name": meta["model"]["name"]}
    assert meta["input"]["channels"] == 3 and meta["input"]["range"] == [-1.0, 1.0]
    assert meta["size_rule"]["multiple"] == 64
    assert meta["inference"] == {"test_dropout": "off", "test_batch_norm": "moving", "dropout_layers": 1,
                                 "rates": [0.5], "batch_norm_layers": 9, "random": False,
                                 "description": InferenceMode("off", "moving").describe()}
    assert meta["tflite"]["size"] == "fixed" and meta["tflite"]["image_size"] == [SIZE, SIZE]
    assert meta["tflite"]["transposed_convolutions"].startswith("6 converted as sub-pixel")  # unet_64: 6 up-convs
    assert meta["training_config"]["netG"] == "unet_64" and meta["training_config"]["data"]
    assert meta["versions"]["tensorflow_runtime"] == tf.__version__
    assert meta["parity"]["images"]["source"].startswith("training data")
    for name in ("saved_model", "tflite_float32", "tflite_float16", "tflite_int8"):
        assert meta["parity"][name]["meets_target"], (name, meta["parity"][name])
    sizes = {q: path.stat().st_size for q, path in exported.tflite.items()}
    assert sizes["int8"] < sizes["float16"] < sizes["none"]
    spec = meta["tflite"]["files"]["generator_int8.tflite"]  # how a phone app feeds it
    assert spec["input"] == {"name": "image", "tensor": "serving_default_image:0", "dtype": "float32",
                             "shape": [1, SIZE, SIZE, 3], "range": [-1.0, 1.0], "layout": "NHWC",
                             "channel_order": "RGB"}
    assert spec["ops"] == "TFLITE_BUILTINS_INT8" and spec["signature"] == "serving_default"
    for entry in meta["tflite"]["files"].values():  # every file runs whole in XNNPACK (test_export_delegation.py)
        assert entry["xnnpack"]["fully_delegated"] and entry["xnnpack"]["variable_ops"] == [], entry["xnnpack"]


def test_saved_model_serves_in_a_fresh_process_with_only_tensorflow(exported, reference, tmp_path):
    x, keras_output, generator = reference
    rng = np.random.default_rng(1)
    small = rng.integers(0, 256, (1, 5, 7, 3), dtype=np.uint8)  # smaller than any pad: repeated reflection
    odd = rng.integers(0, 256, (1, 50, 70, 3), dtype=np.uint8)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "small.npy", small)
    np.save(tmp_path / "odd.npy", odd)
    script = textwrap.dedent(f"""
        import sys, numpy as np, tensorflow as tf
        model = tf.saved_model.load({str(exported.saved_model)!r})
        assert set(model.signatures) == {{"serving_default", "translate_image"}}, list(model.signatures)
        out = model.signatures["serving_default"](image=tf.constant(np.load({str(tmp_path / "x.npy")!r})))
        np.save({str(tmp_path / "float.npy")!r}, out["output"].numpy())
        for name in ("small", "odd"):
            image = tf.constant(np.load({str(tmp_path)!r} + f"/{{name}}.npy"))
            out = model.signatures["translate_image"](image=image)["image"].numpy()
            np.save({str(tmp_path)!r} + f"/{{name}}_out.npy", out)
        assert not any(m.startswith("tfgan_translate") for m in sys.modules), "tfgan_translate was imported"
    """)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert max_abs_diff(keras_output, np.load(tmp_path / "float.npy")) <= 1e-5

    from tfgan_translate.data.files import to_uint8
    from tfgan_translate.inference import translate_array

    for name, image in (("small", small), ("odd", odd)):
        served = np.load(tmp_path / f"{name}_out.npy")
        assert served.dtype == np.uint8 and served.shape == image.shape
        expected = to_uint8(translate_array(generator, image[0] / 127.5 - 1.0, 64, test_dropout="off",
                                            test_batch_norm="moving"))  # the export's mode
        assert np.abs(served[0].astype(int) - expected.astype(int)).max() <= 1


def test_tflite_files_match_keras_with_builtin_ops_only(exported, reference):
    x, keras_output, _ = reference
    figures = {}
    for quantize, path in exported.tflite.items():
        outputs, ops = _tflite_outputs(path, x, builtin_only=True)
        assert not [op for op in ops if op.startswith("Flex") or op in ("CUSTOM", "DELEGATE")], ops
        assert "TRANSPOSE_CONV" not in ops and "DEPTH_TO_SPACE" in ops  # the sub-pixel rewrite
        reference_kernels = _tflite_outputs(path, x)[0]  # XNNPACK and TFLite's own kernels agree (int8: 1 step)
        assert max_abs_diff(outputs, reference_kernels) <= (1e-2 if quantize == "int8" else 1e-5)
        figures[quantize] = (max_abs_diff(keras_output, outputs), psnr(keras_output, outputs))
    print("parity (max abs diff, PSNR dB):", figures)
    assert figures["none"][0] <= 1e-4
    assert figures["float16"][1] >= 50.0
    assert figures["int8"][1] >= 30.0
    assert keras_output.std() > 0.04  # a trained generator: the figures are not about a constant image


def test_translate_with_the_exported_models(exported, tmp_path, capsys):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    rng = np.random.default_rng(0)
    sizes = {"square": (64, 64), "wide": (96, 64), "tall": (50, 70), "tiny": (5, 7)}  # (width, height)
    for stem, (w, h) in sizes.items():
        Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(inputs / f"{stem}.png")
    for model in (exported.tflite["int8"], exported.out_dir, exported.saved_model):
        out = tmp_path / f"out-{model.name}"
        assert main(["-q", "translate", "--model", str(model), "--input", str(inputs), "--output", str(out)]) == 0
        assert {p.stem: Image.open(p).size for p in out.iterdir()} == sizes
    # fit="pad" inside the fixed size is exact: the padded image's output, cropped.
    model = load_export(exported.tflite["none"])
    image = rng.uniform(-1, 1, (50, 40, 3)).astype(np.float32)
    padded = np.pad(image, ((0, 14), (0, 24), (0, 0)), mode="reflect")
    np.testing.assert_allclose(model.translate_array(image), model(padded[None])[0, :50, :40], atol=1e-6)
    with pytest.raises(ValueError, match="H, W >= 1"):
        model.translate_array(np.zeros((0, 7, 3), np.float32))
    translate_image = tf.saved_model.load(str(exported.saved_model)).signatures["translate_image"]
    with pytest.raises(tf.errors.InvalidArgumentError, match="height and width must be >= 1"):
        translate_image(image=tf.zeros((1, 0, 7, 3), tf.uint8))
    (inputs / "broken.png").write_bytes(b"")  # a 0-byte image file: exit code 2 and the file named
    assert main(["-q", "translate", "--model", str(exported.tflite["none"]), "--input", str(inputs),
                 "--output", str(tmp_path / "out-broken")]) == 2
    assert "broken.png" in capsys.readouterr().err
    for budget in (0, -1, float("inf"), "256", True):  # refused before any file is read, as translate_array does
        with pytest.raises(ValueError, match=r"Invalid value for `memory_budget`\. Received: memory_budget="):
            translate_files_with_export(model, inputs, tmp_path / "out-budget", memory_budget=budget)
    assert not (tmp_path / "out-budget").exists()


# ---------------------------------------------------------------------------------------------- options
def test_dropout_on_exports_stochastic_models_with_builtin_random_uniform(tmp_path):
    g = UNetGenerator(depth=6, ngf=4, init_gain=0.1)  # the autouse fixture has set a global seed
    result = export_generator(g, tmp_path / "noisy", test_dropout="on", image_size=SIZE)
    assert result.metadata["inference"]["test_dropout"] == "on" and "skipped" in result.metadata["parity"]
    assert result.metadata["inference"]["random"] and load_export(result.tflite["none"]).inference_mode.dropout == "on"
    x = np.random.default_rng(0).uniform(-1, 1, (2, SIZE, SIZE, 3)).astype(np.float32)
    x[1] = x[0]
    first, ops = _tflite_outputs(result.tflite["none"], x, builtin_only=True)
    second, _ = _tflite_outputs(result.tflite["none"], x)
    assert "RANDOM_UNIFORM" in ops
    assert max_abs_diff(first[0], first[1]) > 1e-3  # new noise on every run of one interpreter ...
    assert max_abs_diff(first[0], second[0]) > 1e-3  # ... and in every freshly loaded one
    loads = [tf.saved_model.load(str(result.saved_model)).signatures["serving_default"] for _ in range(2)]
    outputs = [serve(image=tf.constant(x[:1]))["output"].numpy() for serve in loads]
    assert max_abs_diff(*outputs) > 1e-3


def test_dynamic_size_tflite_resnet_serves_several_sizes(tmp_path):
    g = ResNetGenerator(n_blocks=1, ngf=4, input_channels=1, output_channels=3)
    rng = np.random.default_rng(0)
    calibration = rng.uniform(-1, 1, (4, 32, 32, 1)).astype(np.float32)
    result = export_generator(g, tmp_path / "dyn", saved_model=False, quantize="none", dynamic_size=True,
                              image_size=32, representative_data=calibration)
    assert result.saved_model is None and result.metadata["tflite"]["size"] == "dynamic"
    model = load_export(result.tflite["none"])
    assert model.image_size is None and model.multiple == 4 and model.input_channels == 1
    ops = _tflite_ops(result.tflite["none"])
    assert not {"MIRROR_PAD", "TRANSPOSE_CONV"} & ops  # reflection padding as slices, up-convs (valid + crop) sub-pixel
    for height, width in ((32, 32), (48, 20)):
        x = rng.uniform(-1, 1, (1, height, width, 1)).astype(np.float32)
        assert max_abs_diff(g(x, training=False), model(x)) <= 1e-4
    assert model.translate_array(rng.uniform(-1, 1, (9, 13, 1))).shape == (9, 13, 3)


def test_trained_cyclegan_resnet_exports_within_the_parity_targets(tmp_path):
    """resnet_9blocks (instance norm, reflection padding, cropped up-convolutions) trained 100 steps, exported."""
    from tfgan_translate.config import CycleGANConfig
    from tfgan_translate.data import write_synthetic_unpaired_dataset
    from tfgan_translate.training.run import train

    root = write_synthetic_unpaired_dataset(tmp_path / "palette", n_train=64, n_test=8, size=32, kind="palette")
    config = CycleGANConfig(data=str(root), image_size=32, load_size=32, netG="resnet_9blocks", ngf=8, ndf=8,
                            epochs=1, steps_per_epoch=100, validation_steps=1, seed=0, precision="float32",
                            strategy="none")
    train(config, tmp_path / "run", verbose=0)
    result = export_generator(tmp_path / "run", tmp_path / "export", quantize=("none", "float16", "int8"),
                              representative_count=16)
    parity = result.metadata["parity"]
    print("parity:", {name: (figures["max_abs_diff"], figures["psnr_db"]) for name, figures in parity.items()
                      if isinstance(figures, dict) and "psnr_db" in figures})
    for name in ("saved_model", "tflite_float32", "tflite_float16", "tflite_int8"):
        assert parity[name]["meets_target"], (name, parity[name])
    assert result.metadata["tflite"]["transposed_convolutions"].startswith("2 converted as sub-pixel")
    for path in result.tflite.values():
        ops = _tflite_ops(path)
        assert not {"MIRROR_PAD", "TRANSPOSE_CONV"} & ops
        assert "CONV_2D" in ops and "BATCH_MATMUL" not in ops  # the Winograd convolutions export as plain ones


def test_export_is_atomic_and_replaces_only_exports(tmp_path, monkeypatch):
    g = UNetGenerator(depth=5, ngf=4)
    out = tmp_path / "exp"
    export_generator(g, out, saved_model=False, image_size=32)
    before = (out / "metadata.json").read_text()

    def broken(*args, **kwargs):
        (tmp_path / "converter-ran").touch()
        raise RuntimeError("converter crashed half-way")

    monkeypatch.setattr(tflite_module, "convert", broken)
    with pytest.raises(RuntimeError, match="half-way"):
        export_generator(g, out, image_size=32)  # the SavedModel is already written into staging when it fails
    assert (tmp_path / "converter-ran").exists()
    assert (out / "metadata.json").read_text() == before and not (out / "saved_model").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["converter-ran", "exp"]  # no staging folder left
    monkeypatch.undo()

    export_generator(g, out, tflite=False)  # a complete export is replaced as a whole
    assert sorted(p.name for p in out.iterdir()) == ["metadata.json", "saved_model"]
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "holiday.jpg").write_bytes(b"not ours")
    with pytest.raises(ValueError, match="choose a new or empty folder"):
        export_generator(g, foreign, tflite=False)
    assert (foreign / "holiday.jpg").exists()


def test_bad_input_gives_clear_errors(tmp_path, capsys):
    g = UNetGenerator(depth=5, ngf=4)
    with pytest.raises(FileNotFoundError, match="no_such_run"):
        export_generator(tmp_path / "no_such_run")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="representative_data.*No images"):
        export_generator(g, tmp_path / "e1", quantize="int8", representative_data=empty)
    with pytest.raises(FileNotFoundError, match="representative_data.*missing"):
        export_generator(g, tmp_path / "e2", representative_data=tmp_path / "missing")
    with pytest.raises(ValueError, match="int8' needs representative"):
        export_generator(g, tmp_path / "e3", quantize="int8")
    with pytest.raises(ValueError, match="quantize"):
        export_generator(g, tmp_path / "e4", quantize="int4")
    with pytest.raises(ValueError, match="image_size.*divisible by 32"):
        export_generator(g, tmp_path / "e5", image_size=48)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]  # nothing written, no staging left

    assert main(["export", str(tmp_path / "no_such_run"), "--out", str(tmp_path / "x")]) == 2
    assert "no_such_run" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["translate", "--input", "a", "--output", "b"])  # neither --checkpoint nor --model
    assert main(["translate", "--model", str(tmp_path / "nope.tflite"), "--input", "a", "--output", "b"]) == 2
    assert "nope.tflite" in capsys.readouterr().err


def test_cli_export_defaults_to_exports_run_name(run_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["-q", "export", str(run_dir), "--tflite", "--quantize", "float16", "--test-dropout", "off"]) == 0
    out = tmp_path / "exports" / run_dir.name
    assert sorted(p.name for p in out.iterdir()) == ["generator_float16.tflite", "metadata.json"]
    assert "parity tflite_float16" in capsys.readouterr().out  # measured: deterministic with dropout off


