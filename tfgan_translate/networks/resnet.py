"""ResNet generator of CycleGAN ("resnet_9blocks", "resnet_6blocks") and CUT (anti-aliased, feature taps)."""

from collections.abc import Sequence
from numbers import Integral

import keras
from keras import layers

from tfgan_translate.choices import DOWNSAMPLES, RESNET_UPSAMPLES, check_choice
from tfgan_translate.networks.antialias import blur_downsample, blur_upsample
from tfgan_translate.networks.base import Blocks, Network, check_generator_arguments
from tfgan_translate.networks.layers import NoiseDropout, ReflectionPadding2D, check_positive


@keras.saving.register_keras_serializable(package="tfgan_translate")
class ResNetGenerator(Network):
    """The CycleGAN ResNet generator: a functional Keras model that knows its geometry.

    Layout (Johnson et al.'s network as used by CycleGAN): reflection pad 3,
    7x7 conv `ngf`, norm, ReLU; two 3x3 stride-2 convs (`2 * ngf`, `4 * ngf`)
    with zero padding 1, norm, ReLU; `n_blocks` residual blocks (reflection
    pad 1, 3x3 conv, norm, ReLU, [dropout], reflection pad 1, 3x3 conv, norm,
    add); two x2 upsamplings (`2 * ngf`, `ngf`) with norm, ReLU; reflection pad
    3, 7x7 conv to `output_channels`, float32 tanh. The transposed convs are
    3x3 stride 2 and aligned like PyTorch's `padding=1, output_padding=1`
    (a valid transposed conv cropped by one row and column at the start).
    Convolutions have biases only when `norm` is not "batch"; the last one
    always has one.

    CUT's options (the authors' defaults: `downsample="blur"`,
    `upsample="blur"`, `init="xavier"`) keep the authors' layer order: a blur
    down stage is a 3x3 stride-1 conv (zero padding 1), norm, ReLU, then
    reflection pad 1 and a [1, 2, 1]^2 / 16 stride-2 blur
    (`antialias.blur_downsample`); a blur up stage is a bilinear x2 resize
    (exactly the authors' [1, 3, 3, 1]^2 transposed filter with replicate
    padding: `antialias.blur_upsample`), a 3x3 conv (zero padding 1), norm,
    ReLU. `feature_layers` and `encoder` give the outputs of the authors'
    `model[i]` for PatchNCE. (In training on CPU, `tfgan_translate.accelerate` runs
    the residual blocks' 3x3 convs, 88 % of the network's multiply-adds, as
    Winograd F(4x4, 3x3), about 2x faster.)

    Args:
        n_blocks: int. Number of residual blocks, >= 0. 9 is
            "resnet_9blocks" (256 px), 6 is "resnet_6blocks" (128 px).
            Defaults to `9`.
        input_channels: int. Channels of the input image. Defaults to `3`.
        output_channels: int. Channels of the output image. Defaults to `3`.
        ngf: int. Filters of the first and last convolutions. Defaults to `64`.
        norm: str. `"batch"`, `"instance"` or `"none"`. Defaults to `"instance"`.
        dropout: float. Dropout rate inside each residual block, in [0, 1);
            0 (CycleGAN's default) adds no dropout layer. The layers are
            `NoiseDropout(at_inference=True)`. Defaults to `0.0`.
        upsample: str. `"transpose"` (the paper), `"resize"` (nearest x2
            resize + 3x3 conv, no checkerboard artefacts) or `"blur"` (CUT's
            anti-aliased bilinear x2 + 3x3 conv). Defaults to `"transpose"`.
        image_size: int, `(height, width)` or None. Fixed input size, or None
            for any size (multiples of 4). Defaults to `None`.
        init_gain: float. Weights ~ N(0, init_gain); batch-norm scales ~
            N(1, init_gain). Defaults to `0.02`.
        sync_batch_norm: bool. With `norm="batch"`, synchronise the batch
            statistics across the replicas of a tf.distribute strategy.
            Defaults to `False`.
        downsample: str. `"stride"` (stride-2 convs, the paper) or `"blur"`
            (CUT's stride-1 conv + blur pooling). Defaults to `"stride"`.
        init: str. Conv weights `"normal"` N(0, init_gain), or `"xavier"`
            (PyTorch's xavier_normal_ with gain init_gain, CUT's default):
            `layers.conv_init`. Defaults to `"normal"`.
        name: str. Model name. Defaults to `"resnet_generator"`.
        **kwargs: `keras.Model` arguments (e.g. `trainable`, `dtype`).

    Attributes:
        size_multiple: int. What height and width must be a multiple of (4).
        reference_name: str. The reference implementation's name, e.g. "resnet_9blocks".

    Input shape:
        `(batch, height, width, input_channels)`, height and width multiples
        of 4, pixels in [-1, 1].

    Output shape:
        `(batch, height, width, output_channels)`, float32 in [-1, 1].

    Raises:
        ValueError: for an invalid argument, or an `image_size` that is not a
            multiple of 4 ("resnet_9blocks needs height and width divisible by
            4, got 30x30").

    Example:

    >>> g = ResNetGenerator(n_blocks=6, ngf=16, image_size=128)
    >>> g(keras.random.uniform((1, 128, 128, 3), -1, 1)).shape
    TensorShape([1, 128, 128, 3])
    >>> g.reference_name, g.size_multiple
    ('resnet_6blocks', 4)
    >>> cut = ResNetGenerator(ngf=16, downsample="blur", upsample="blur", init="xavier")  # CUT's

    Reference: Zhu et al. 2017, Appendix 7.2 (CycleGAN generator); Johnson et
    al. 2016, "Perceptual Losses for Real-Time Style Transfer and
    Super-Resolution"; He et al. 2016 (residual blocks); Park et al. 2020,
    "Contrastive Learning for Unpaired Image-to-Image Translation" (CUT).
    """

    def __init__(self, n_blocks: int = 9, input_channels: int = 3, output_channels: int = 3, ngf: int = 64,
                 norm: str = "instance", dropout: float = 0.0, upsample: str = "transpose",
                 image_size: int | tuple[int, int] | None = None, init_gain: float = 0.02,
                 sync_batch_norm: bool = False, downsample: str = "stride", init: str = "normal",
                 name: str = "resnet_generator", **kwargs):
        check_positive("n_blocks", n_blocks, minimum=0)
        check_choice("downsample", downsample, DOWNSAMPLES)
        height, width = check_generator_arguments(f"resnet_{n_blocks}blocks", 4, input_channels, output_channels, ngf,
                                                  norm, dropout, upsample, image_size, init_gain, RESNET_UPSAMPLES)
        blocks = Blocks(norm, init_gain, sync_batch_norm, init)
        sequence = []  # the layer giving the output of each entry of the authors' nn.Sequential, in order

        def tap(x):
            sequence.append(x._keras_history.operation.name)
            return x

        def conv_norm_relu(x, prefix):  # three entries: conv, norm (for "none" the authors' Identity), ReLU
            x = tap(blocks.normalize(tap(x), prefix))
            return tap(layers.ReLU(name=f"{prefix}_relu")(x))

        # === Functional Model ===
        inputs = keras.Input(shape=(height, width, input_channels), name="image")
        x = tap(ReflectionPadding2D(3, name="stem_pad")(inputs))
        x = conv_norm_relu(blocks.conv(x, ngf, 7, "stem_conv"), "stem")

        for i in (1, 2):
            x = layers.ZeroPadding2D(1, name=f"down{i}_pad")(x)
            strides = 2 if downsample == "stride" else 1
            x = conv_norm_relu(blocks.conv(x, ngf * 2**i, 3, f"down{i}_conv", strides=strides), f"down{i}")
            if downsample == "blur":
                x = tap(blur_downsample(x, f"down{i}_blur"))

        for b in range(1, n_blocks + 1):
            y = ReflectionPadding2D(1, name=f"block{b}_pad1")(x)
            y = blocks.normalize(blocks.conv(y, 4 * ngf, 3, f"block{b}_conv1"), f"block{b}_1")
            y = layers.ReLU(name=f"block{b}_1_relu")(y)
            if dropout > 0:
                y = NoiseDropout(dropout, at_inference=True, name=f"block{b}_dropout")(y)
            y = ReflectionPadding2D(1, name=f"block{b}_pad2")(y)
            y = blocks.normalize(blocks.conv(y, 4 * ngf, 3, f"block{b}_conv2"), f"block{b}_2")
            x = tap(layers.Add(name=f"block{b}_add")([x, y]))

        for i, filters in ((1, 2 * ngf), (2, ngf)):
            if upsample == "transpose":
                x = blocks.conv(x, filters, 3, f"up{i}_conv", strides=2, transpose=True)
                # 2H + 1 rows: crop the first to get PyTorch's alignment
                x = layers.Cropping2D(((1, 0), (1, 0)), name=f"up{i}_crop")(x)
            elif upsample == "blur":
                x = tap(blur_upsample(x, f"up{i}_blur"))
                x = blocks.conv(x, filters, 3, f"up{i}_conv", padding="same")
            else:
                x = blocks.resize_conv(x, filters, f"up{i}")
                sequence.append(f"up{i}_resize")  # taps like "blur": resize, conv, norm, ReLU
            x = conv_norm_relu(x, f"up{i}")

        x = tap(ReflectionPadding2D(3, name="head_pad")(x))
        x = tap(blocks.conv(x, output_channels, 7, "head_conv", bias=True))
        outputs = tap(layers.Activation("tanh", dtype="float32", name="tanh")(x))
        super().__init__(inputs, outputs, locals(), name=name, **kwargs)  # each argument: an attribute, in the config
        self._sequence = tuple(sequence)

    def feature_layers(self, nce_layers: Sequence[int]) -> list[str]:
        """The names of the layers whose outputs are the authors' `self.model[i]`, for each i in `nce_layers`.

        The indices count the entries of the CUT authors' `ResnetGenerator.model` (an `nn.Sequential`) built
        with the same options: reflection pad, conv, norm, ReLU of the stem; conv, norm, ReLU (and with
        `downsample="blur"` the `Downsample`) of each down stage; one entry per residual block; for each up
        stage the transposed conv (its crop here), norm, ReLU, or with `upsample="blur"` the `Upsample`,
        conv, norm, ReLU ("resize", which the authors lack, counts like "blur"); reflection pad, conv, tanh.
        With `norm="none"` the authors' `Identity` still takes an index; its output is the conv's.

        Args:
            nce_layers: sequence of int. Indices in `[0, len(model))`, e.g. CUT's `(0, 4, 8, 12, 16)`.

        Returns:
            list of str: layer names, in the order of `nce_layers`.

        Raises:
            ValueError: for an index out of range, or not a non-empty sequence of ints.

        Example:

        >>> g = ResNetGenerator(n_blocks=9, ngf=8, downsample="blur", upsample="blur")
        >>> g.feature_layers([0, 4, 8, 12, 16])
        ['stem_pad', 'down1_conv', 'down2_conv', 'block1_add', 'block5_add']
        """
        count = len(self._sequence)
        valid = (isinstance(nce_layers, Sequence) and not isinstance(nce_layers, str) and len(nce_layers) > 0
                 and all(isinstance(i, Integral) and not isinstance(i, bool) and 0 <= i < count for i in nce_layers))
        if not valid:
            raise ValueError(f"Invalid value for argument `nce_layers`. Received: nce_layers={nce_layers!r}. Expected "
                             f"a non-empty sequence of indices in [0, {count}) (the entries of the CUT authors' "
                             f"ResnetGenerator.model with these options).")
        return [self._sequence[int(i)] for i in nce_layers]

    def encoder(self, nce_layers: Sequence[int]) -> keras.Model:
        """A functional model sharing this network's layers and weights: image -> the `nce_layers` features.

        The outputs are those of `feature_layers(nce_layers)`, in that order; the model runs only the layers
        they need (CUT's `encode_only`). For the default CUT taps `(0, 4, 8, 12, 16)` with 9 blocks and
        `downsample="blur"`, an `H x W` image gives the reflection-padded input (`H + 6`, input channels),
        the first down conv's output before its norm (`H`, `2 * ngf`), the second's (`H / 2`, `4 * ngf`)
        and the outputs of residual blocks 1 and 5 (`H / 4`, `4 * ngf`).

        Args:
            nce_layers: sequence of int. As `feature_layers` takes them.

        Returns:
            keras.Model named `{name}_encoder`, mapping `(batch, H, W, input_channels)` to a list of tensors
            (for one index Keras returns the tensor itself; `keras.tree.flatten` gives a list either way).

        Example:

        >>> g = ResNetGenerator(n_blocks=9, ngf=8, downsample="blur", upsample="blur", init="xavier")
        >>> [tuple(f.shape) for f in g.encoder([0, 4, 8, 12, 16])(keras.ops.zeros((1, 32, 32, 3)))]
        [(1, 38, 38, 3), (1, 32, 32, 16), (1, 16, 16, 32), (1, 8, 8, 32), (1, 8, 8, 32)]
        """
        names = self.feature_layers(nce_layers)
        return keras.Model(self.input, [self.get_layer(name).output for name in names], name=f"{self.name}_encoder")

    @property
    def size_multiple(self) -> int:
        """What image height and width must be a multiple of: 4 (two stride-2 downsamplings)."""
        return 4

    @property
    def reference_name(self) -> str:
        """The reference implementation's `--netG` name: "resnet_9blocks" for 9 blocks."""
        return f"resnet_{self.n_blocks}blocks"
