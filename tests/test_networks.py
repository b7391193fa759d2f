"""Tests of tfgan_translate.networks: shapes, layouts, layers, serialisation.

Everything is tiny (few filters, 8-64 px) except the parameter-count check
against the reference implementation, which only builds the full networks.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from tfgan_translate.networks import (
    DISCRIMINATORS,
    GENERATORS,
    NORMS,
    InstanceNormalization,
    NoiseDropout,
    PatchGANDiscriminator,
    ReflectionPadding2D,
    ResNetGenerator,
    UNetGenerator,
    build_discriminator,
    build_generator,
    check_image_size,
    conv_init,
    normalization,
    patch_output_size,
    patch_receptive_field,
    unet_dropout_levels,
)


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(0)


def _images(batch, height, width, channels):
    return np.random.default_rng(0).uniform(-1, 1, (batch, height, width, channels)).astype("float32")


def _layers_of(model, cls):
    return [layer for layer in model.layers if isinstance(layer, cls)]


def _set_noise_at_inference(model, value):
    for layer in _layers_of(model, NoiseDropout):
        layer.at_inference = value


# === Generators: shapes, channels, sizes ===


@pytest.mark.parametrize(
    "depth, size, cin, cout, norm, upsample",
    [
        (3, 32, 3, 3, "batch", "transpose"),
        (5, 32, 1, 1, "instance", "transpose"),
        (4, (32, 48), 4, 3, "none", "resize"),
        (6, 64, 3, 1, "batch", "resize"),
    ],
)
def test_unet_output_shape_and_range(depth, size, cin, cout, norm, upsample):
    g = UNetGenerator(depth=depth, input_channels=cin, output_channels=cout, ngf=4, norm=norm,
                       upsample=upsample, image_size=size)
    h, w = (size, size) if isinstance(size, int) else size
    y = g(_images(2, h, w, cin))
    assert tuple(y.shape) == (2, h, w, cout)
    assert y.dtype == tf.float32
    assert np.all(np.abs(y.numpy()) <= 1.0)


@pytest.mark.parametrize(
    "n_blocks, size, cin, cout, norm, upsample, dropout",
    [
        (2, 32, 3, 3, "instance", "transpose", 0.0),
        (1, 36, 1, 1, "batch", "transpose", 0.5),
        (1, (32, 20), 4, 3, "none", "resize", 0.0),
    ],
)
def test_resnet_output_shape_and_range(n_blocks, size, cin, cout, norm, upsample, dropout):
    g = ResNetGenerator(n_blocks=n_blocks, input_channels=cin, output_channels=cout, ngf=4, norm=norm,
                         dropout=dropout, upsample=upsample, image_size=size)
    h, w = (size, size) if isinstance(size, int) else size
    y = g(_images(1, h, w, cin))
    assert tuple(y.shape) == (1, h, w, cout)
    assert y.dtype == tf.float32
    assert np.all(np.abs(y.numpy()) <= 1.0)
    assert len(_layers_of(g, layers.Add)) == n_blocks
    assert len(_layers_of(g, NoiseDropout)) == (n_blocks if dropout else 0)


def test_generators_accept_any_valid_size_when_dynamic():
    unet = UNetGenerator(depth=3, ngf=4, norm="instance", image_size=None)
    for h, w in [(8, 8), (16, 40), (32, 24)]:
        assert tuple(unet(_images(1, h, w, 3)).shape) == (1, h, w, 3)
    resnet = ResNetGenerator(n_blocks=1, ngf=4, image_size=None)
    for h, w in [(12, 12), (16, 28), (32, 32)]:
        assert tuple(resnet(_images(1, h, w, 3)).shape) == (1, h, w, 3)


def test_size_errors_name_the_generator_and_size():
    with pytest.raises(ValueError, match="^unet_256 needs height and width divisible by 256, got 300x200$"):
        UNetGenerator(depth=8, image_size=(300, 200))
    with pytest.raises(ValueError, match="^unet_8 needs height and width divisible by 8, got 36x36$"):
        UNetGenerator(depth=3, ngf=4, image_size=36)
    with pytest.raises(ValueError, match="^resnet_9blocks needs height and width divisible by 4, got 30x30$"):
        ResNetGenerator(n_blocks=9, image_size=30)
    with pytest.raises(ValueError, match="^unet_128 needs height and width divisible by 128, got 256x100$"):
        check_image_size("unet_128", 256, 100)
    with pytest.raises(ValueError, match="resnet_6blocks needs height and width divisible by 4, got 30x32"):
        check_image_size("resnet_6blocks", 30, 32)
    check_image_size("unet_256", 512, 256)
    check_image_size("resnet_9blocks", 260, 4)
    for netG, multiple in zip(GENERATORS, [256, 128, 4, 4]):  # each generator's size rule, and no stricter one
        check_image_size(netG, multiple, 3 * multiple)
        with pytest.raises(ValueError, match=f"divisible by {multiple}, got {multiple}x{multiple + 2}$"):
            check_image_size(netG, multiple, multiple + 2)


def test_invalid_arguments_are_reported():
    with pytest.raises(ValueError, match=r"Invalid value for argument `norm`\. Received: norm='foo'\. "
                                         r"Expected one of \['batch', 'instance', 'none'\]\."):
        UNetGenerator(norm="foo")
    with pytest.raises(ValueError, match="`upsample`. Received: upsample='bilinear'"):
        ResNetGenerator(upsample="bilinear")
    with pytest.raises(ValueError, match="`dropout`. Received: dropout=1.0"):
        UNetGenerator(dropout=1.0)
    with pytest.raises(ValueError, match="`depth`. Received: depth=1"):
        UNetGenerator(depth=1)
    with pytest.raises(ValueError, match="`image_size`. Received: image_size=0"):
        UNetGenerator(image_size=0)
    with pytest.raises(ValueError, match="`kind`. Received: kind='global'"):
        PatchGANDiscriminator(kind="global")
    with pytest.raises(ValueError, match="`image_size`. Received: image_size=16"):
        PatchGANDiscriminator(n_layers=3, image_size=16)
    with pytest.raises(ValueError, match=r"`netG`. Received: netG='unet_100'. Expected unet_256"):
        build_generator("unet_100")
    assert build_generator("unet_16", ngf=2).output_shape == (None, None, None, 3)  # any unet_<2**depth>
    with pytest.raises(ValueError, match="`netD`. Received: netD='global'"):
        build_discriminator("global")
    with pytest.raises(TypeError, match="unexpected keyword argument 'depth'"):
        build_generator("unet_128", depth=3)
    with pytest.raises(ValueError, match="`rate`. Received: rate=1.5"):
        NoiseDropout(1.5)


# === U-Net layout ===


def test_unet_layout_matches_reference():
    g = UNetGenerator(depth=8, ngf=2, image_size=256)
    down_filters = [g.get_layer(f"down{lv}_conv").filters for lv in range(1, 9)]
    assert down_filters == [2, 4, 8, 16, 16, 16, 16, 16]
    # 1x1 bottleneck, no norm there nor on the outermost layer.
    bottleneck = g.get_layer("down8_conv")
    assert tuple(bottleneck.output.shape[1:3]) == (1, 1)
    assert g.get_layer("up8_relu").input is bottleneck.output
    assert g.get_layer("down2_lrelu").input is g.get_layer("down1_conv").output
    norms = {layer.name for layer in _layers_of(g, layers.BatchNormalization)}
    assert norms == {f"down{lv}_norm" for lv in range(2, 8)} | {f"up{lv}_norm" for lv in range(2, 9)}
    # Dropout in the three intermediate 8*ngf decoder blocks, not after the bottleneck's up-conv.
    assert unet_dropout_levels(8) == (5, 6, 7)
    drops = _layers_of(g, NoiseDropout)
    assert [d.name for d in drops] == ["up7_dropout", "up6_dropout", "up5_dropout"]
    assert all(d.rate == 0.5 and d.at_inference for d in drops)
    for lv in (5, 6, 7):
        assert g.get_layer(f"up{lv}_conv").filters == 16
    # Skips: encoder output first, decoder second; final conv has a bias, others not (batch norm).
    skip = g.get_layer("up2_skip")
    assert skip.input[0] is g.get_layer("down1_conv").output
    assert not g.get_layer("down3_conv").use_bias and g.get_layer("up1_conv").use_bias
    assert UNetGenerator(depth=3, ngf=2, norm="instance").get_layer("down2_conv").use_bias


def test_unet_dropout_count_by_depth():
    assert unet_dropout_levels(7) == (5, 6)  # unet_128, as the reference
    assert unet_dropout_levels(5) == () and unet_dropout_levels(2) == ()
    assert len(_layers_of(UNetGenerator(depth=6, ngf=2), NoiseDropout)) == 1
    assert not _layers_of(UNetGenerator(depth=8, ngf=2, dropout=0.0), NoiseDropout)


def test_resize_conv_has_no_transposed_conv():
    for g in (UNetGenerator(depth=3, ngf=4, upsample="resize"),
              ResNetGenerator(n_blocks=1, ngf=4, upsample="resize")):
        assert not _layers_of(g, layers.Conv2DTranspose)
        assert len(_layers_of(g, layers.UpSampling2D)) >= 2
        assert tuple(g(_images(1, 16, 16, 3)).shape) == (1, 16, 16, 3)
    assert _layers_of(UNetGenerator(depth=3, ngf=4), layers.Conv2DTranspose)


def test_parameter_counts_match_reference():
    """Counts printed by the reference implementation (trainable parameters, in millions)."""

    def millions(model):
        return round(sum(int(np.prod(w.shape)) for w in model.trainable_weights) / 1e6, 3)

    assert millions(build_generator("unet_256")) == 54.414  # pix2pix G
    assert millions(build_discriminator("basic", condition_channels=3)) == 2.769  # pix2pix D
    assert millions(build_generator("resnet_9blocks")) == 11.378  # CycleGAN G
    assert millions(build_discriminator("basic", norm="instance", condition_channels=0)) == 2.765


def test_build_generator_names():
    unet_128 = build_generator("unet_128", ngf=2)
    assert len(_layers_of(unet_128, layers.Conv2D)) == len(_layers_of(unet_128, layers.Conv2DTranspose)) == 7
    assert len(_layers_of(build_generator("resnet_6blocks", ngf=2), layers.Add)) == 6
    g = build_generator("unet_256", ngf=2, input_channels=1, output_channels=4, norm="none", name="G")
    assert g.name == "G" and g.input_shape == (None, None, None, 1) and g.output_shape[-1] == 4


# === PatchGAN ===


@pytest.mark.parametrize(
    "netD, n_layers_D, cin, ccond, size, expected",
    [
        ("basic", 3, 3, 3, 256, (30, 30)),
        ("basic", 3, 1, 3, 64, (6, 6)),
        ("n_layers", 1, 3, 0, 32, (14, 14)),
        ("n_layers", 3, 4, 1, (64, 96), (6, 10)),
        ("pixel", 3, 3, 3, 20, (20, 20)),
    ],
)
def test_patch_discriminator_output_shape(netD, n_layers_D, cin, ccond, size, expected):
    d = build_discriminator(netD, n_layers_D=n_layers_D, input_channels=cin, condition_channels=ccond, ndf=2,
                            image_size=size)
    h, w = (size, size) if isinstance(size, int) else size
    assert d.input_shape == (None, h, w, cin + ccond)
    y = d(_images(1, h, w, cin + ccond))
    assert tuple(y.shape) == (1, *expected, 1)
    assert y.dtype == tf.float32
    if netD != "pixel":
        assert expected == (patch_output_size(h, n_layers_D), patch_output_size(w, n_layers_D))


def test_patch_discriminator_dynamic_size():
    d = build_discriminator("basic", ndf=2, condition_channels=0)
    assert tuple(d(_images(1, 48, 64, 3)).shape) == (1, 4, 6, 1)
    assert tuple(d(_images(1, 256, 32, 3)).shape) == (1, 30, 2, 1)


def _measured_receptive_field(d, size):
    x = tf.constant(_images(1, size, size, 1))
    with tf.GradientTape() as tape:
        tape.watch(x)
        logits = d(x)
        centre = logits[0, logits.shape[1] // 2, logits.shape[2] // 2, 0]
    grad = np.abs(tape.gradient(centre, x).numpy()[0, ..., 0])
    rows, cols = np.nonzero(grad.sum(axis=1))[0], np.nonzero(grad.sum(axis=0))[0]
    assert rows.min() > 0 and cols.min() > 0 and rows.max() < size - 1, "field clipped: use a bigger input"
    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1


@pytest.mark.parametrize("netD, n_layers, size, field", [
    ("pixel", None, 8, 1), ("n_layers", 1, 40, 16), ("n_layers", 3, 128, 70), ("n_layers", 5, 320, 286),
])
def test_patch_receptive_field_from_gradients(netD, n_layers, size, field):
    d = build_discriminator(netD, n_layers_D=n_layers or 3, input_channels=1, condition_channels=0, ndf=2,
                            norm="none")
    assert _measured_receptive_field(d, size) == (field, field)
    assert patch_receptive_field(n_layers) == field


def test_patch_discriminator_layout():
    d = PatchGANDiscriminator(ndf=2, n_layers=3, image_size=64)
    convs = _layers_of(d, layers.Conv2D)
    assert [c.filters for c in convs] == [2, 4, 8, 16, 1]
    assert [c.strides for c in convs] == [(2, 2)] * 3 + [(1, 1)] * 2
    assert {n.name for n in _layers_of(d, layers.BatchNormalization)} == {"conv2_norm", "conv3_norm", "conv4_norm"}
    assert len(_layers_of(d, layers.ZeroPadding2D)) == 5
    assert not any(isinstance(layer, layers.Activation) for layer in d.layers)  # logits, no sigmoid
    assert DISCRIMINATORS == ("basic", "n_layers", "pixel")


# === Layers ===


def test_instance_norm_matches_numpy():
    x = np.random.default_rng(1).normal(3.0, 2.0, (2, 5, 7, 3)).astype("float32")
    y = InstanceNormalization()(x).numpy()
    mean = x.mean(axis=(1, 2), keepdims=True)
    var = x.var(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-5), atol=1e-5)
    layer = normalization("instance")
    layer.build((None, None, None, 3))
    assert isinstance(layer, InstanceNormalization) and not layer.weights
    assert normalization("none") is None and NORMS == ("batch", "instance", "none")


def _outputs_and_gradients(layer, x, training):
    """(output, d loss / d x, d loss / d weights) for loss = sum(output ** 3), all as float32 numpy."""
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.cast(layer(x, training=training), tf.float32)
        loss = tf.reduce_sum(y**3)
    grads = tape.gradient(loss, [x, *layer.trainable_weights])
    return y.numpy(), [g.numpy() for g in grads]


@pytest.mark.parametrize("batch, affine, policy", [(1, False, "float32"), (3, True, "float32"),
                                                   (1, True, "mixed_bfloat16")])
def test_instance_norm_matches_group_norm(batch, affine, policy):
    # The 4-D moments are GroupNormalization's maths (tests/test_accelerate.py: the fused kernel at batch 1).
    x = tf.constant(np.random.default_rng(2).normal(3.0, 2.0, (batch, 6, 5, 4)).astype("float32"))
    group = layers.GroupNormalization(groups=-1, epsilon=1e-5, center=affine, scale=affine, dtype=policy,
                                      gamma_initializer="random_normal", beta_initializer="random_normal")
    instance = InstanceNormalization(center=affine, scale=affine, dtype=policy)
    group.build(x.shape)
    instance.build(x.shape)
    instance.set_weights(group.get_weights())
    for training in (True, False):
        y_group, grads_group = _outputs_and_gradients(group, x, training)
        y_instance, grads_instance = _outputs_and_gradients(instance, x, training)
        np.testing.assert_allclose(y_instance, y_group, atol=1e-5 if policy == "float32" else 2e-2)
        for expected, actual in zip(grads_group, grads_instance):
            np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-4)


def test_batch_norm_settings_and_conv_init():
    bn = normalization("batch", name="bn")
    assert type(bn) is layers.BatchNormalization  # the stock layer: speed-ups are tfgan_translate.accelerate's
    bn.build((None, 4, 4, 4096))
    assert (bn.momentum, bn.epsilon, bn.name) == (0.9, 1e-5, "bn")
    gamma = bn.gamma.numpy()
    assert abs(gamma.mean() - 1.0) < 0.003 and abs(gamma.std() - 0.02) < 0.002
    g = UNetGenerator(depth=3, ngf=16, norm="instance")
    kernel = g.get_layer("down2_conv").kernel.numpy()  # 4 * 4 * 16 * 32 weights
    assert abs(kernel.mean()) < 0.002 and abs(kernel.std() - 0.02) < 0.001
    assert not np.any(g.get_layer("down2_conv").bias.numpy())
    assert conv_init(0.05).get_config()["stddev"] == 0.05


def test_reflection_padding_matches_numpy():
    x = np.arange(2 * 4 * 5 * 2, dtype="float32").reshape(2, 4, 5, 2)
    y = ReflectionPadding2D(2)(x).numpy()
    np.testing.assert_array_equal(y, np.pad(x, [(0, 0), (2, 2), (2, 2), (0, 0)], mode="reflect"))
    assert ReflectionPadding2D(3).compute_output_shape((None, None, 10, 3)) == (None, None, 16, 3)


def test_noise_dropout_on_at_inference():
    x = np.ones((1, 64, 64, 32), dtype="float32")
    drop = NoiseDropout(0.5)
    a, b = drop(x).numpy(), drop(x).numpy()
    assert not np.array_equal(a, b)
    assert set(np.unique(a)) == {0.0, 2.0}
    assert abs(a.mean() - 1.0) < 0.02  # kept values scaled by 1 / (1 - rate)
    c = NoiseDropout(0.25)(x).numpy()
    assert set(np.unique(c)) == {0.0, np.float32(4 / 3)} and abs(c.mean() - 1.0) < 0.02


def test_noise_dropout_off_unless_training_when_not_at_inference():
    x = np.ones((1, 32, 32, 8), dtype="float32")
    drop = NoiseDropout(0.5, at_inference=False)
    np.testing.assert_array_equal(drop(x).numpy(), x)
    np.testing.assert_array_equal(drop(x, training=False).numpy(), x)
    assert not np.array_equal(drop(x, training=True).numpy(), x)
    np.testing.assert_array_equal(NoiseDropout(0.0)(x, training=True).numpy(), x)


def test_unet_noise_toggles_after_building():
    g = UNetGenerator(depth=6, ngf=4, norm="instance", image_size=64)
    x = _images(1, 64, 64, 3)
    assert np.abs(g(x).numpy() - g(x).numpy()).max() > 1e-3  # dropout is the noise source at test time
    _set_noise_at_inference(g, False)
    np.testing.assert_array_equal(g(x).numpy(), g(x, training=False).numpy())


def test_mixed_precision_outputs_float32():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        nets = [UNetGenerator(depth=3, ngf=4), ResNetGenerator(n_blocks=1, ngf=4, dropout=0.5),
                PatchGANDiscriminator(ndf=4, condition_channels=0, norm="instance")]
        for net in nets:
            assert net(_images(1, 32, 32, 3)).dtype == tf.float32
    finally:
        keras.mixed_precision.set_global_policy("float32")


# === Serialisation ===


def _structure(model):
    return [(layer.__class__.__name__, layer.name, tuple(layer.output.shape)) for layer in model.layers]


def test_from_config_round_trip():
    nets = [
        UNetGenerator(depth=6, ngf=2, norm="instance", upsample="resize", image_size=64),
        ResNetGenerator(n_blocks=1, ngf=2, dropout=0.5, image_size=(32, 16)),
        PatchGANDiscriminator(ndf=2, norm="instance", n_layers=2),
        PatchGANDiscriminator(ndf=2, kind="pixel"),
    ]
    for net in nets:
        clone = type(net).from_config(net.get_config())  # the class rebuilds itself from its hyperparameters
        assert _structure(clone) == _structure(net)
        assert clone.count_params() == net.count_params()


@pytest.mark.parametrize("builder", [
    lambda: UNetGenerator(depth=6, ngf=2, norm="instance"),
    lambda: ResNetGenerator(n_blocks=1, ngf=2, norm="batch", dropout=0.5),
])
def test_keras_file_round_trip(builder, tmp_path):
    g = builder()
    drops = _layers_of(g, NoiseDropout)
    path = tmp_path / "g.keras"
    g.save(path)
    loaded = keras.models.load_model(path)
    assert _structure(loaded) == _structure(g)
    assert [d.at_inference for d in _layers_of(loaded, NoiseDropout)] == [True] * len(drops)
    assert [d.rate for d in _layers_of(loaded, NoiseDropout)] == [0.5] * len(drops)
    assert any(isinstance(layer, (ReflectionPadding2D, InstanceNormalization)) for layer in loaded.layers)
    _set_noise_at_inference(g, False)
    _set_noise_at_inference(loaded, False)
    x = _images(2, 64, 64, 3)
    np.testing.assert_array_equal(loaded(x, training=False).numpy(), g(x, training=False).numpy())
