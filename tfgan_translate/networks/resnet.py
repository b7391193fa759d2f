"""ResNet generator of CycleGAN ("resnet_9blocks", "resnet_6blocks")."""

import keras
from keras import layers

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
    always has one. (In training on CPU, `tfgan_translate.accelerate` runs
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
        upsample: str. `"transpose"` (the paper) or `"resize"` (nearest x2
            resize + 3x3 conv, no checkerboard artefacts). Defaults to
            `"transpose"`.
        image_size: int, `(height, width)` or None. Fixed input size, or None
            for any size (multiples of 4). Defaults to `None`.
        init_gain: float. Weights ~ N(0, init_gain); batch-norm scales ~
            N(1, init_gain). Defaults to `0.02`.
        sync_batch_norm: bool. With `norm="batch"`, synchronise the batch
            statistics across the replicas of a tf.distribute strategy.
            Defaults to `False`.
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

    Reference: Zhu et al. 2017, Appendix 7.2 (CycleGAN generator); Johnson et
    al. 2016, "Perceptual Losses for Real-Time Style Transfer and
    Super-Resolution"; He et al. 2016 (residual blocks).
    """

    def __init__(self, n_blocks: int = 9, input_channels: int = 3, output_channels: int = 3, ngf: int = 64,
                 norm: str = "instance", dropout: float = 0.0, upsample: str = "transpose",
                 image_size: int | tuple[int, int] | None = None, init_gain: float = 0.02,
                 sync_batch_norm: bool = False, name: str = "resnet_generator", **kwargs):
        check_positive("n_blocks", n_blocks, minimum=0)
        height, width = check_generator_arguments(f"resnet_{n_blocks}blocks", 4, input_channels, output_channels, ngf,
                                                  norm, dropout, upsample, image_size, init_gain)
        blocks = Blocks(norm, init_gain, sync_batch_norm)

        def norm_relu(x, prefix, relu=True):
            x = blocks.normalize(x, prefix)
            return layers.ReLU(name=f"{prefix}_relu")(x) if relu else x

        # === Functional Model ===
        inputs = keras.Input(shape=(height, width, input_channels), name="image")
        x = ReflectionPadding2D(3, name="stem_pad")(inputs)
        x = norm_relu(blocks.conv(x, ngf, 7, "stem_conv"), "stem")

        for i in (1, 2):
            x = layers.ZeroPadding2D(1, name=f"down{i}_pad")(x)
            x = norm_relu(blocks.conv(x, ngf * 2**i, 3, f"down{i}_conv", strides=2), f"down{i}")

        for b in range(1, n_blocks + 1):
            y = ReflectionPadding2D(1, name=f"block{b}_pad1")(x)
            y = norm_relu(blocks.conv(y, 4 * ngf, 3, f"block{b}_conv1"), f"block{b}_1")
            if dropout > 0:
                y = NoiseDropout(dropout, at_inference=True, name=f"block{b}_dropout")(y)
            y = ReflectionPadding2D(1, name=f"block{b}_pad2")(y)
            y = norm_relu(blocks.conv(y, 4 * ngf, 3, f"block{b}_conv2"), f"block{b}_2", relu=False)
            x = layers.Add(name=f"block{b}_add")([x, y])

        for i, filters in ((1, 2 * ngf), (2, ngf)):
            if upsample == "transpose":
                x = blocks.conv(x, filters, 3, f"up{i}_conv", strides=2, transpose=True)
                # 2H + 1 rows: crop the first to get PyTorch's alignment
                x = layers.Cropping2D(((1, 0), (1, 0)), name=f"up{i}_crop")(x)
            else:
                x = blocks.resize_conv(x, filters, f"up{i}")
            x = norm_relu(x, f"up{i}")

        x = blocks.conv(ReflectionPadding2D(3, name="head_pad")(x), output_channels, 7, "head_conv", bias=True)
        outputs = layers.Activation("tanh", dtype="float32", name="tanh")(x)
        super().__init__(inputs, outputs, locals(), name=name, **kwargs)  # each argument: an attribute, in the config

    @property
    def size_multiple(self) -> int:
        """What image height and width must be a multiple of: 4 (two stride-2 downsamplings)."""
        return 4

    @property
    def reference_name(self) -> str:
        """The reference implementation's `--netG` name: "resnet_9blocks" for 9 blocks."""
        return f"resnet_{self.n_blocks}blocks"
