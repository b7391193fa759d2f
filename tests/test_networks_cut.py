"""Tests of CUT's network options: anti-aliased resampling, Xavier init, PatchNCE feature taps.

The authors' `Downsample` and `Upsample` (taesungp/contrastive-unpaired-translation, models/networks.py) are
transcribed in NumPy from their F.conv2d / F.conv_transpose2d calls; everything else is tiny (ngf 4-8, 16-64 px).
"""

import json
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from tfgan_translate.accelerate import set_winograd, uses_winograd
from tfgan_translate.networks import (
    InstanceNormalization,
    PatchGANDiscriminator,
    ReflectionPadding2D,
    ResNetGenerator,
    build_discriminator,
    build_generator,
    conv_init,
    patch_output_size,
    patch_receptive_field,
)
from tfgan_translate.networks.antialias import blur_downsample, blur_upsample


def _images(batch, height, width, channels, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (batch, height, width, channels)).astype("float32")


def _apply(build, x):
    """`build(tensor)` run on the NHWC array `x` through a one-layer functional model."""
    inputs = keras.Input(x.shape[1:])
    return np.asarray(keras.Model(inputs, build(inputs))(x))


# === The authors' resampling, in NumPy (NCHW as they compute it) ===


def _binomial(size):  # their get_filter
    a = {3: [1.0, 2.0, 1.0], 4: [1.0, 3.0, 3.0, 1.0]}[size]
    f = np.outer(a, a)
    return f / f.sum()


def _conv2d_depthwise(x, f, stride):  # F.conv2d(x, filt, stride=stride, groups=C), no padding
    k = f.shape[0]
    rows, cols = (x.shape[2] - k) // stride + 1, (x.shape[3] - k) // stride + 1
    y = np.zeros((*x.shape[:2], rows, cols))
    for a in range(k):
        for b in range(k):
            y += f[a, b] * x[:, :, a:a + stride * (rows - 1) + 1:stride, b:b + stride * (cols - 1) + 1:stride]
    return y


def _conv_transpose2d_depthwise(x, f, stride, padding):  # F.conv_transpose2d(..., groups=C): scatter, then crop
    k, (n, c, h, w) = f.shape[0], x.shape
    y = np.zeros((n, c, (h - 1) * stride + k, (w - 1) * stride + k))
    for i in range(h):
        for j in range(w):
            y[:, :, stride * i:stride * i + k, stride * j:stride * j + k] += x[:, :, i, j, None, None] * f
    return y[:, :, padding:y.shape[2] - padding, padding:y.shape[3] - padding]


def authors_downsample(x):  # Downsample(channels): reflect pad 1, get_filter(3), stride 2
    x = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="reflect")
    return _conv2d_depthwise(x, _binomial(3), 2)


def authors_upsample(x):  # Upsample(channels): replicate pad 1, get_filter(4) * 4, stride 2, padding 1 + 1
    x = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="edge")
    y = _conv_transpose2d_depthwise(x, _binomial(4) * 4, 2, 1 + 1)[:, :, 1:, 1:]
    return y[:, :, :-1, :-1]  # even filter size


def _nchw(x):
    return np.transpose(x, (0, 3, 1, 2)).astype(np.float64)


@pytest.mark.parametrize("shape", [(2, 8, 8, 3), (1, 7, 10, 2), (1, 2, 5, 1)])
def test_blur_downsample_is_the_authors_downsample(shape):
    x = _images(*shape)
    y = _apply(lambda t: blur_downsample(t, "blur"), x)
    expected = np.transpose(authors_downsample(_nchw(x)), (0, 2, 3, 1))
    assert y.shape == expected.shape == (shape[0], -(-shape[1] // 2), -(-shape[2] // 2), shape[3])
    np.testing.assert_allclose(y, expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize("shape", [(2, 8, 8, 3), (1, 5, 3, 2), (1, 1, 4, 1)])
def test_bilinear_upsampling_is_the_authors_upsample(shape):
    x = _images(*shape)
    expected = np.transpose(authors_upsample(_nchw(x)), (0, 2, 3, 1))
    stock = _apply(layers.UpSampling2D(2, interpolation="bilinear"), x)
    assert stock.shape == expected.shape == (shape[0], 2 * shape[1], 2 * shape[2], shape[3])
    np.testing.assert_allclose(stock, expected, rtol=0, atol=1e-6)
    np.testing.assert_allclose(_apply(lambda t: blur_upsample(t, "up"), x), expected, rtol=0, atol=1e-6)


def test_the_resampling_has_no_weights_and_follows_the_dtype_policy():
    for build in (lambda t: blur_downsample(t, "blur"), lambda t: blur_upsample(t, "up")):
        inputs = keras.Input((None, None, 3))
        assert keras.Model(inputs, build(inputs)).weights == []
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
        try:
            half = keras.Model(inputs, build(inputs))
        finally:
            keras.mixed_precision.set_global_policy("float32")
        y = half(np.ones((1, 5, 5, 3), "float32"))
        assert y.dtype == tf.bfloat16 and np.allclose(np.asarray(tf.cast(y, tf.float32)), 1.0)  # filters sum to 1


# === Generator: layout, taps, init ===

# The authors' ResnetGenerator.model, transcribed: (module class, output channels as multiples of ngf or "in"/"out").
def authors_resnet_sequence(n_blocks, norm, downsample, upsample):
    norm_module = {"instance": "InstanceNorm2d", "batch": "BatchNorm2d", "none": "Identity"}[norm]
    model = [("ReflectionPad2d", "in"), ("Conv2d", 1), (norm_module, 1), ("ReLU", 1)]
    for mult in (1, 2):
        model += [("Conv2d", 2 * mult), (norm_module, 2 * mult), ("ReLU", 2 * mult)]
        if downsample == "blur":
            model += [("Downsample", 2 * mult)]
    model += [("ResnetBlock", 4)] * n_blocks
    for mult in (4, 2):
        if upsample == "blur":
            model += [("Upsample", mult), ("Conv2d", mult // 2)]
        else:
            model += [("ConvTranspose2d", mult // 2)]
        model += [(norm_module, mult // 2), ("ReLU", mult // 2)]
    return model + [("ReflectionPad2d", 1), ("Conv2d", "out"), ("Tanh", "out")]


KERAS_CLASS = {"ReflectionPad2d": ReflectionPadding2D, "Conv2d": layers.Conv2D, "ReLU": layers.ReLU,
               "InstanceNorm2d": InstanceNormalization, "BatchNorm2d": layers.BatchNormalization,
               "Downsample": layers.AveragePooling2D, "ResnetBlock": layers.Add, "Upsample": layers.AveragePooling2D,
               "ConvTranspose2d": layers.Cropping2D,  # PyTorch's alignment: the crop after Conv2DTranspose
               "Tanh": layers.Activation}


@pytest.mark.parametrize("n_blocks, norm, downsample, upsample", [
    (9, "instance", "blur", "blur"), (2, "none", "blur", "transpose"), (0, "batch", "stride", "blur"),
    (3, "instance", "stride", "transpose"),
])
def test_feature_layers_are_the_authors_sequential_entries(n_blocks, norm, downsample, upsample):
    ngf = 4
    g = ResNetGenerator(n_blocks=n_blocks, input_channels=2, output_channels=1, ngf=ngf, norm=norm,
                        downsample=downsample, upsample=upsample)
    authors = authors_resnet_sequence(n_blocks, norm, downsample, upsample)
    names = g.feature_layers(range(len(authors)))
    for i, (name, (module, channels)) in enumerate(zip(names, authors, strict=True)):
        layer = g.get_layer(name)
        if module == "Identity":  # norm "none": the output of the layer before it
            assert name == names[i - 1], i
        else:
            assert isinstance(layer, KERAS_CLASS[module]), (i, module, name)
        assert layer.output.shape[-1] == {"in": 2, "out": 1}.get(channels, ngf * channels if channels else 0), i
    with pytest.raises(ValueError, match=rf"Invalid value for argument `nce_layers`.*\[0, {len(authors)}\)"):
        g.feature_layers([0, len(authors)])


def test_cut_encoder_taps_shapes_and_shared_weights():
    g = ResNetGenerator(n_blocks=9, ngf=4, downsample="blur", upsample="blur", init="xavier", image_size=32)
    assert g.feature_layers((0, 4, 8, 12, 16)) == ["stem_pad", "down1_conv", "down2_conv", "block1_add", "block5_add"]
    encoder = g.encoder([0, 4, 8, 12, 16])
    x = _images(2, 32, 32, 3)
    features = encoder(x)
    assert [tuple(f.shape) for f in features] == [(2, 38, 38, 3), (2, 32, 32, 8), (2, 16, 16, 16), (2, 8, 8, 16),
                                                  (2, 8, 8, 16)]
    ids = {id(w) for w in g.weights}
    assert encoder.weights and all(id(w) in ids for w in encoder.weights)
    np.testing.assert_allclose(features[0], np.pad(x, ((0, 0), (3, 3), (3, 3), (0, 0)), mode="reflect"), atol=0)
    block5 = keras.Model(g.input, g.get_layer("block5_add").output)(x)
    np.testing.assert_allclose(features[4], block5, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("bad", [[-1], [32], [], "0,4", [True], [1.5], None])
def test_feature_layers_reject_what_is_not_an_index(bad):
    g = ResNetGenerator(n_blocks=9, ngf=4, downsample="blur", upsample="blur")
    with pytest.raises(ValueError, match=r"^Invalid value for argument `nce_layers`\. Received: nce_layers="):
        g.feature_layers(bad)


def test_blur_generator_keeps_the_authors_layer_order():
    g = ResNetGenerator(n_blocks=1, ngf=4, downsample="blur", upsample="blur", image_size=(32, 16))
    names = [layer.name for layer in g.layers]
    down = names[names.index("down1_pad"):names.index("down2_pad")]
    assert down == ["down1_pad", "down1_conv", "down1_norm", "down1_relu", "down1_blur_pad", "down1_blur_box",
                    "down1_blur"]
    up = names[names.index("up1_blur_nearest"):names.index("up2_blur_nearest")]
    assert up == ["up1_blur_nearest", "up1_blur_pad", "up1_blur_box", "up1_blur", "up1_conv", "up1_norm", "up1_relu"]
    assert g.get_layer("down2_conv").strides == (1, 1) and g.get_layer("down2_pad").padding == ((1, 1), (1, 1))
    assert g.get_layer("up1_conv").padding == "same" and g.get_layer("up1_blur_nearest").interpolation == "nearest"
    assert tuple(g(_images(1, 32, 16, 3)).shape) == (1, 32, 16, 3)


def test_xavier_init_is_pytorchs_xavier_normal():
    gain, fan_in, fan_out = 0.02, 9 * 64, 9 * 32
    w = np.asarray(conv_init(gain, "xavier")((3, 3, 64, 32)))
    std = gain * np.sqrt(2.0 / (fan_in + fan_out))
    assert abs(w.std() / std - 1) < 0.03 and abs(w.mean()) < 0.03 * std
    assert np.abs(w).max() > 3 * std  # not truncated at 2 std like Keras' GlorotNormal
    g = ResNetGenerator(n_blocks=1, ngf=8, init="xavier", downsample="blur", upsample="blur")
    kernel = np.asarray(g.get_layer("block1_conv1").kernel)  # 3x3, 32 -> 32
    assert abs(kernel.std() / (gain * np.sqrt(2.0 / (2 * 9 * 32))) - 1) < 0.1
    assert abs(np.asarray(ResNetGenerator(n_blocks=1, ngf=8).get_layer("block1_conv1").kernel).std() / gain - 1) < 0.1
    with pytest.raises(ValueError, match="Invalid value for argument `init`. Received: init='kaiming'"):
        ResNetGenerator(n_blocks=1, ngf=4, init="kaiming")


# === Discriminator ===


def test_blur_patch_gan_layer_order_output_size_and_receptive_field():
    d = PatchGANDiscriminator(ndf=4, n_layers=3, condition_channels=0, downsample="blur", init="xavier")
    names = [layer.name for layer in d.layers]
    assert names[:12] == ["condition_and_image", "conv1_pad", "conv1", "conv1_lrelu", "conv1_blur_pad",
                          "conv1_blur_box", "conv1_blur", "conv2_pad", "conv2", "conv2_norm", "conv2_lrelu",
                          "conv2_blur_pad"]
    assert names[-8:] == ["conv3_blur_box", "conv3_blur", "conv4_pad", "conv4", "conv4_norm", "conv4_lrelu",
                          "logits_pad", "logits"]
    assert all(d.get_layer(f"conv{n}").strides == (1, 1) for n in (1, 2, 3, 4))
    stride = PatchGANDiscriminator(ndf=4, n_layers=3, condition_channels=0)
    for size in (24, 32, 37, 64):
        x = _images(1, size, size + 3, 3)
        assert d(x).shape == stride(x).shape == (1, patch_output_size(size, 3), patch_output_size(size + 3, 3), 1)
    assert (d.receptive_field, stride.receptive_field) == (84, 70)
    assert [patch_receptive_field(n, "blur") for n in (1, 2, 3, 5)] == [18, 40, 84, 348]
    with pytest.raises(ValueError, match="needs height and width of at least 24"):
        PatchGANDiscriminator(ndf=4, downsample="blur", image_size=23)


@pytest.mark.parametrize("n_layers, downsample", [(1, "blur"), (2, "blur"), (2, "stride")])
def test_receptive_field_is_the_support_of_one_logits_gradient(n_layers, downsample):
    d = PatchGANDiscriminator(ndf=4, n_layers=n_layers, condition_channels=0, norm="none", downsample=downsample)
    x = tf.constant(_images(1, 96, 96, 3))
    with tf.GradientTape() as tape:
        tape.watch(x)
        logits = d(x)
        centre = logits[0, logits.shape[1] // 2, logits.shape[2] // 2, 0]
    support = np.any(np.asarray(tape.gradient(centre, x))[0] != 0, axis=-1)
    rows, cols = np.flatnonzero(support.any(axis=1)), np.flatnonzero(support.any(axis=0))
    assert rows[-1] - rows[0] + 1 == cols[-1] - cols[0] + 1 == d.receptive_field
    assert rows[0] > 0 and rows[-1] < 95  # inside the image: the whole field was seen


# === Defaults unchanged, old configs, saving ===

DEFAULT_RESNET_LAYERS = (
    "image:InputLayer stem_pad:ReflectionPadding2D stem_conv:Conv2D stem_norm:InstanceNormalization stem_relu:ReLU "
    "down1_pad:ZeroPadding2D down1_conv:Conv2D down1_norm:InstanceNormalization down1_relu:ReLU "
    "down2_pad:ZeroPadding2D down2_conv:Conv2D down2_norm:InstanceNormalization down2_relu:ReLU "
    "block1_pad1:ReflectionPadding2D block1_conv1:Conv2D block1_1_norm:InstanceNormalization block1_1_relu:ReLU "
    "block1_pad2:ReflectionPadding2D block1_conv2:Conv2D block1_2_norm:InstanceNormalization block1_add:Add "
    "up1_conv:Conv2DTranspose up1_crop:Cropping2D up1_norm:InstanceNormalization up1_relu:ReLU "
    "up2_conv:Conv2DTranspose up2_crop:Cropping2D up2_norm:InstanceNormalization up2_relu:ReLU "
    "head_pad:ReflectionPadding2D head_conv:Conv2D tanh:Activation")
DEFAULT_PATCH_LAYERS = (
    "condition_and_image:InputLayer conv1_pad:ZeroPadding2D conv1:Conv2D conv1_lrelu:LeakyReLU "
    "conv2_pad:ZeroPadding2D conv2:Conv2D conv2_norm:BatchNormalization conv2_lrelu:LeakyReLU "
    "conv3_pad:ZeroPadding2D conv3:Conv2D conv3_norm:BatchNormalization conv3_lrelu:LeakyReLU "
    "logits_pad:ZeroPadding2D logits:Conv2D")
OLD_RESNET_CONFIG = {"name": "resnet_generator", "trainable": True, "n_blocks": 1, "input_channels": 3,
                     "output_channels": 3, "ngf": 4, "norm": "instance", "dropout": 0.0, "upsample": "transpose",
                     "image_size": [32, 32], "init_gain": 0.02, "sync_batch_norm": False, "dtype_policy": "float32"}
OLD_PATCH_CONFIG = {"name": "patch_discriminator", "trainable": True, "input_channels": 3, "condition_channels": 3,
                    "ndf": 4, "n_layers": 2, "norm": "batch", "kind": "n_layers", "image_size": [32, 32],
                    "init_gain": 0.02, "sync_batch_norm": False, "dtype_policy": "float32"}


def _layer_list(model):
    return " ".join(f"{layer.name}:{type(layer).__name__}" for layer in model.layers)


@pytest.mark.parametrize("cls, old, layer_list", [(ResNetGenerator, OLD_RESNET_CONFIG, DEFAULT_RESNET_LAYERS),
                                                  (PatchGANDiscriminator, OLD_PATCH_CONFIG, DEFAULT_PATCH_LAYERS)])
def test_defaults_are_the_old_networks_and_old_configs_load(cls, old, layer_list, tmp_path):
    sizes = {key: old[key] for key in ("n_blocks", "ngf", "n_layers", "ndf") if key in old}
    net = cls(**sizes, image_size=32)
    assert _layer_list(net) == layer_list
    assert net.get_config() == {**old, "downsample": "stride", "init": "normal"}  # two keys added, nothing changed
    for layer in net.layers:
        if isinstance(layer, layers.Conv2D):
            assert layer.kernel_initializer.get_config()["stddev"] == 0.02
    loaded = cls.from_config(dict(old))
    assert _layer_list(loaded) == layer_list and loaded.get_config() == net.get_config()
    # A .keras file written before the new arguments existed: its config.json lacks them.
    path = tmp_path / "net.keras"
    net.save(path)
    with zipfile.ZipFile(path) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(entries["config.json"])
    assert config["config"].pop("downsample") == "stride" and config["config"].pop("init") == "normal"
    entries["config.json"] = json.dumps(config).encode()
    old_path = tmp_path / "old.keras"
    with zipfile.ZipFile(old_path, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    reloaded = keras.saving.load_model(old_path)
    assert type(reloaded) is cls and reloaded.get_config() == net.get_config()
    x = _images(1, 32, 32, net.input_shape[-1])
    np.testing.assert_allclose(reloaded(x), net(x), rtol=0, atol=1e-6)


def test_blur_networks_survive_a_keras_round_trip(tmp_path):
    nets = [build_generator("resnet_2blocks", ngf=4, upsample="blur", downsample="blur", init="xavier", image_size=32),
            build_discriminator("basic", ndf=4, condition_channels=0, norm="instance", downsample="blur",
                                init="xavier", image_size=32)]
    assert (nets[0].downsample, nets[0].upsample, nets[0].init) == ("blur", "blur", "xavier")
    assert (nets[1].downsample, nets[1].init) == ("blur", "xavier")
    for i, net in enumerate(nets):
        path = tmp_path / f"net{i}.keras"
        net.save(path)
        loaded = keras.saving.load_model(path)
        assert type(loaded) is type(net) and loaded.get_config() == net.get_config()
        if isinstance(net, ResNetGenerator):
            assert loaded.feature_layers([0, 4, 8, 12, 16]) == net.feature_layers([0, 4, 8, 12, 16])
        x = _images(1, 32, 32, 3)
        np.testing.assert_allclose(loaded(x), net(x), rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match="Invalid value for argument `downsample`. Received: downsample='blur'"):
        build_generator("unet_32", ngf=4, downsample="blur")


def test_winograd_runs_the_blur_generators_stride_1_convolutions_alike():
    g = ResNetGenerator(n_blocks=1, ngf=64, downsample="blur", upsample="blur", image_size=16)
    x = _images(1, 16, 16, 3)
    direct = np.asarray(g(x))
    set_winograd(g, True)
    try:
        winograd = {name for name in ("down2_conv", "block1_conv1", "up1_conv")
                    if uses_winograd(g.get_layer(name), tuple(g.get_layer(name).input.shape))}
        assert winograd == {"down2_conv", "block1_conv1", "up1_conv"}  # 128 -> 256, 256 -> 256, 256 -> 128
        fast = np.asarray(g(x))
    finally:
        set_winograd(g, False)
    np.testing.assert_allclose(fast, direct, rtol=0, atol=1e-4)


def test_blur_resnet_exports_to_a_fully_delegated_tflite_that_matches_keras():
    pytest.importorskip("ai_edge_litert", reason="LiteRT (ai-edge-litert, the test extra) is not installed")
    from tfgan_translate.export import TFLiteRunner, inference_copy
    from tfgan_translate.export.delegation import xnnpack_report
    from tfgan_translate.export.tflite import convert

    g = ResNetGenerator(n_blocks=1, ngf=4, downsample="blur", upsample="blur", init="xavier", init_gain=1.0)
    files = convert(inference_copy(g, "off", "image"), ("none", "float16", "int8"), image_size=(32, 32),
                    representative=_images(2, 32, 32, 3))
    for content in files.values():  # int8 too: the box filters are rewritten as depthwise convolutions
        report = xnnpack_report(content)
        assert report["fully_delegated"] and report["not_delegated"] == [] and report["variable_ops"] == [], report
    x = _images(2, 32, 32, 3, seed=1)
    np.testing.assert_allclose(TFLiteRunner(files["none"])(x), np.asarray(g(x)), rtol=0, atol=1e-4)
    np.testing.assert_allclose(TFLiteRunner(files["float16"])(x), np.asarray(g(x)), rtol=0, atol=1e-2)
    dynamic = convert(inference_copy(g, "off", "image"), ("none",), image_size=None)["none"]  # any size traces
    np.testing.assert_allclose(TFLiteRunner(dynamic)(x[:, :16, :24]), np.asarray(g(x[:, :16, :24])), rtol=0,
                               atol=1e-4)


def test_the_reference_mapping_refuses_an_anti_aliased_network():
    """The pix2pix/CycleGAN reference's checkpoints hold stride-2 convolutions: a blur network is refused, not
    silently filled with the reference's layer numbering."""
    from tfgan_translate.reference.mapping import assign_weights

    with pytest.raises(ValueError, match="downsample='stride'"):
        assign_weights(ResNetGenerator(n_blocks=1, ngf=4, downsample="blur"), {})
