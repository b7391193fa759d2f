"""PatchGAN discriminators: "basic" (70x70), "n_layers" (any depth) and "pixel" (1x1); CUT's anti-aliased one."""

import keras
from keras import layers

from tfgan_translate.choices import DOWNSAMPLES, NORMS, check_choice
from tfgan_translate.networks.antialias import blur_downsample
from tfgan_translate.networks.base import Blocks, Network
from tfgan_translate.networks.layers import check_positive, spatial_shape

PATCH_KINDS = ("n_layers", "pixel")


def patch_receptive_field(n_layers: int | None, downsample: str = "stride") -> int:
    """Side of the input patch one logit sees: 1 for the PixelGAN (`None`),
    16 for `n_layers=1`, 70 for 3, 286 for 5 (Isola et al. 2017, Table 3);
    with CUT's `downsample="blur"` 18, 84 and 348."""
    if n_layers is None:
        return 1
    check_choice("downsample", downsample, DOWNSAMPLES)
    # (kernel, stride) of each layer from the input on: a 4x4 stride-2 conv, or a
    # 4x4 stride-1 conv and a 3x3 stride-2 blur; then two 4x4 stride-1 convs.
    stage = [(4, 2)] if downsample == "stride" else [(4, 1), (3, 2)]
    # Walk back from one logit to the input: a k x k layer widens the field by
    # k - 1 input steps of the layer, a stride multiplies the step.
    field = 1
    for kernel, stride in reversed(stage * n_layers + [(4, 1), (4, 1)]):
        field = (field - 1) * stride + kernel
    return field


def patch_output_size(size: int, n_layers: int) -> int:
    """Logits per side for an input side `size` (256 -> 30 for `n_layers=3`), either `downsample`."""
    for _ in range(n_layers):
        # 4x4, stride 2, padding 1; or ("blur") 4x4, stride 1, padding 1 (size - 1), then reflection
        # padding 1 and a 3x3 stride-2 blur ((size - 1 + 2 - 3) // 2 + 1): both size // 2
        size //= 2
    return size - 2  # two 4x4, stride 1, padding 1 convs


@keras.saving.register_keras_serializable(package="tfgan_translate")
class PatchGANDiscriminator(Network):
    """A PatchGAN discriminator that returns one logit per patch: a functional Keras model.

    The model takes ONE tensor: the condition `x` (the first
    `condition_channels` channels) concatenated with the image `y` (the last
    `input_channels`), in that order, as the reference does for pix2pix's
    cGAN. `condition_channels=0` makes it unconditional (CycleGAN, or
    pix2pix's "L1+GAN" ablation).

    `kind="n_layers"` is the reference `NLayerDiscriminator`: a 4x4 stride-2
    conv with `ndf` filters and LeakyReLU(0.2), no norm; then for n in
    1 .. n_layers - 1 a 4x4 stride-2 conv with `ndf * min(2 ** n, 8)` filters,
    norm, LeakyReLU; a 4x4 stride-1 conv with `ndf * min(2 ** n_layers, 8)`
    filters, norm, LeakyReLU; and a 4x4 stride-1 conv to 1 channel. Every conv
    pads by 1 exactly like PyTorch (`ZeroPadding2D(1)` + valid conv), so a
    256x256 input gives 30x30 logits for `n_layers=3`. The receptive field is
    16 (n_layers=1), 70 (3) or 286 (5) pixels.

    `downsample="blur"` is CUT's `NLayerDiscriminator` (anti-aliased, the
    authors' default): each stride-2 conv becomes a 4x4 stride-1 conv (zero
    padding 1), [norm,] LeakyReLU, then reflection pad 1 and a [1, 2, 1]^2 / 16
    stride-2 blur (`antialias.blur_downsample`); the last two convs are as
    above. Same output size; receptive field 18, 84 or 348.

    `kind="pixel"` is the 1x1 PixelGAN: 1x1 convs `ndf`, LeakyReLU,
    `2 * ndf`, norm, LeakyReLU, 1 (receptive field 1, output as big as the
    input; `n_layers` is ignored).

    Convolutions followed by a norm have biases only when `norm` is not
    "batch"; the first conv (and for "n_layers" the last) always has one, like
    the reference. There is no sigmoid: the losses take logits. (In
    training on CPU, `tfgan_translate.accelerate` runs the 4x4 stride-1 conv
    before the logits, 63 % of the 70x70 PatchGAN's multiply-adds, as
    Winograd F(3x3, 4x4).)

    Args:
        input_channels: int. Channels of the judged image `y`. Defaults to `3`.
        condition_channels: int. Channels of the condition `x`, >= 0; 0 for an
            unconditional discriminator. Defaults to `3`.
        ndf: int. Filters of the first convolution. Defaults to `64`.
        n_layers: int. Number of stride-2 convolutions for `kind="n_layers"`,
            >= 1 ("basic" is 3). Defaults to `3`.
        norm: str. `"batch"`, `"instance"` or `"none"`. Defaults to `"batch"`.
        kind: str. `"n_layers"` or `"pixel"`. Defaults to `"n_layers"`.
        image_size: int, `(height, width)` or None. Fixed input size, or None
            for any size. Defaults to `None`.
        init_gain: float. Weights ~ N(0, init_gain); batch-norm scales ~
            N(1, init_gain). Defaults to `0.02`.
        sync_batch_norm: bool. With `norm="batch"`, synchronise the batch
            statistics across the replicas of a tf.distribute strategy.
            Defaults to `False`.
        downsample: str. `"stride"` or `"blur"` (CUT's) for
            `kind="n_layers"`; ignored by "pixel". Defaults to `"stride"`.
        init: str. Conv weights `"normal"` N(0, init_gain) or `"xavier"`
            (PyTorch's xavier_normal_ with gain init_gain, CUT's default).
            Defaults to `"normal"`.
        name: str. Model name. Defaults to `"patch_discriminator"`.
        **kwargs: `keras.Model` arguments (e.g. `trainable`, `dtype`).

    Attributes:
        receptive_field: int. Side of the input patch one logit sees (70 for n_layers=3; 84 with "blur").
        reference_name: str. The reference implementation's `--netD`: "basic", "n_layers" or "pixel".

    Input shape:
        `(batch, height, width, condition_channels + input_channels)`.

    Output shape:
        `(batch, out_height, out_width, 1)` float32 logits; for "n_layers"
        `out = floor(size / 2 ** n_layers) - 2` per side (256 -> 30, 64 -> 6
        for `n_layers=3`); for "pixel" `out = size`.

    Raises:
        ValueError: for an invalid argument, or an `image_size` too small to
            give at least one logit.

    Example:

    >>> d = PatchGANDiscriminator(ndf=16, image_size=256)  # 70x70 PatchGAN, cGAN
    >>> x = keras.random.uniform((1, 256, 256, 3), -1, 1)  # condition (input image)
    >>> y = keras.random.uniform((1, 256, 256, 3), -1, 1)  # real or generated image
    >>> d(keras.ops.concatenate([x, y], axis=-1)).shape
    TensorShape([1, 30, 30, 1])
    >>> d.reference_name, d.receptive_field
    ('basic', 70)

    Reference: Isola et al. 2017, Sec. 3.2.2 (Markovian discriminator),
    Appendix 6.1.2 and Table 3 (patch sizes); Li & Wand 2016 (Markovian GANs);
    Park et al. 2020 (CUT) and Zhang 2019 (blur pooling) for "blur".
    """

    def __init__(self, input_channels: int = 3, condition_channels: int = 3, ndf: int = 64, n_layers: int = 3,
                 norm: str = "batch", kind: str = "n_layers", image_size: int | tuple[int, int] | None = None,
                 init_gain: float = 0.02, sync_batch_norm: bool = False, downsample: str = "stride",
                 init: str = "normal", name: str = "patch_discriminator", **kwargs):
        check_positive("input_channels", input_channels)
        check_positive("condition_channels", condition_channels, minimum=0)
        check_positive("ndf", ndf)
        check_positive("n_layers", n_layers)
        check_choice("norm", norm, NORMS)
        check_choice("kind", kind, PATCH_KINDS)
        check_choice("downsample", downsample, DOWNSAMPLES)
        check_positive("init_gain", init_gain, number=True)
        height, width = spatial_shape(image_size)
        if kind == "n_layers" and any(size is not None and patch_output_size(size, n_layers) < 1
                                      for size in (height, width)):
            raise ValueError(f"Invalid value for argument `image_size`. Received: image_size={image_size!r}. "
                             f"A PatchGAN with n_layers={n_layers} needs height and width of at least "
                             f"{3 * 2 ** n_layers} to give one logit.")
        blocks = Blocks(norm, init_gain, sync_batch_norm, init)
        strides = 2 if downsample == "stride" else 1  # "blur": stride-1 convs, each followed by a blur

        def blur(x, prefix):
            return blur_downsample(x, f"{prefix}_blur") if downsample == "blur" else x

        def conv(x, filters, kernel, strides, layer_name, bias=None, **conv_kwargs):
            if kernel > 1:  # PyTorch's padding=1
                x = layers.ZeroPadding2D(1, name=f"{layer_name}_pad")(x)
            return blocks.conv(x, filters, kernel, layer_name, strides=strides, bias=bias, **conv_kwargs)

        def norm_lrelu(x, prefix):
            return layers.LeakyReLU(0.2, name=f"{prefix}_lrelu")(blocks.normalize(x, prefix))

        # === Functional Model ===
        inputs = keras.Input(shape=(height, width, condition_channels + input_channels), name="condition_and_image")
        if kind == "pixel":
            x = conv(inputs, ndf, 1, 1, "conv1", bias=True)
            x = layers.LeakyReLU(0.2, name="conv1_lrelu")(x)
            x = norm_lrelu(conv(x, 2 * ndf, 1, 1, "conv2"), "conv2")
            outputs = conv(x, 1, 1, 1, "logits", dtype="float32")
        else:
            x = conv(inputs, ndf, 4, strides, "conv1", bias=True)
            x = blur(layers.LeakyReLU(0.2, name="conv1_lrelu")(x), "conv1")
            for n in range(1, n_layers):
                x = norm_lrelu(conv(x, ndf * min(2**n, 8), 4, strides, f"conv{n + 1}"), f"conv{n + 1}")
                x = blur(x, f"conv{n + 1}")
            last = n_layers + 1
            x = norm_lrelu(conv(x, ndf * min(2**n_layers, 8), 4, 1, f"conv{last}"), f"conv{last}")
            outputs = conv(x, 1, 4, 1, "logits", bias=True, dtype="float32")
        super().__init__(inputs, outputs, locals(), name=name, **kwargs)  # each argument: an attribute, in the config

    @property
    def receptive_field(self) -> int:
        """Side of the input patch one logit sees: 1 (pixel), 16, 70 or 286 (n_layers 1, 3, 5); "blur" 18, 84, 348."""
        return patch_receptive_field(None if self.kind == "pixel" else self.n_layers, self.downsample)

    @property
    def reference_name(self) -> str:
        """The reference implementation's `--netD` name: "basic" (n_layers 3), "n_layers" or "pixel"."""
        if self.kind == "pixel":
            return "pixel"
        return "basic" if self.n_layers == 3 else "n_layers"
