"""U-Net generator of pix2pix ("unet_256" = depth 8, "unet_128" = depth 7)."""

import keras
from keras import layers

from tfgan_translate.networks.base import Blocks, Network, check_generator_arguments
from tfgan_translate.networks.layers import NoiseDropout, check_positive


def unet_dropout_levels(depth: int) -> tuple[int, ...]:
    """The levels (1 = outermost, `depth` = bottleneck) whose decoder block has dropout.

    As in the reference, dropout follows the up-convolution of every
    intermediate block that has 8 * ngf filters both ways, i.e. levels
    5 .. depth - 1: three for unet_256 (levels 5, 6, 7), two for unet_128,
    one for depth 6 and none for depth <= 5. The bottleneck's own decoder
    block (level `depth`) has none.
    """
    return tuple(range(5, depth))


@keras.saving.register_keras_serializable(package="tfgan_translate")
class UNetGenerator(Network):
    """The pix2pix U-Net generator: a functional Keras model that knows its geometry.

    Encoder level `l` (1 = outermost) is a 4x4 stride-2 convolution with
    `ngf * min(2 ** (l - 1), 8)` filters, preceded by LeakyReLU(0.2) (except at
    level 1) and followed by the norm (except at level 1 and at the 1x1
    bottleneck, level `depth`, where normalising would zero the map). The
    decoder mirrors it: ReLU, 4x4 stride-2 transposed convolution (or
    nearest-neighbour x2 resize + 3x3 convolution), norm, dropout at the levels
    given by `unet_dropout_levels(depth)`, then concatenation with the encoder
    output of the level above (skip first, then decoder). The last block is
    ReLU, up-convolution to `output_channels` and a float32 tanh. Convolutions
    have biases only when `norm` is not "batch", like the reference (its final
    up-convolution always has one).

    Args:
        depth: int. Number of stride-2 downsamplings, >= 2. 8 is "unet_256",
            7 is "unet_128". Defaults to `8`.
        input_channels: int. Channels of the input image. Defaults to `3`.
        output_channels: int. Channels of the output image. Defaults to `3`.
        ngf: int. Filters of the outermost convolution. Defaults to `64`.
        norm: str. `"batch"`, `"instance"` or `"none"`. Defaults to `"batch"`.
        dropout: float. Rate of the decoder dropout, in [0, 1); 0 removes the
            dropout layers. They are `NoiseDropout(at_inference=True)`: on at
            test time too. Defaults to `0.5`.
        upsample: str. `"transpose"` (the paper) or `"resize"` (resize-conv,
            no checkerboard artefacts). Defaults to `"transpose"`.
        image_size: int, `(height, width)` or None. Fixed input size, or None
            for any size (which must then be a multiple of `2 ** depth` at call
            time). Defaults to `None`.
        init_gain: float. Weights ~ N(0, init_gain); batch-norm scales ~
            N(1, init_gain). Defaults to `0.02`.
        sync_batch_norm: bool. With `norm="batch"`, synchronise the batch
            statistics across the replicas of a tf.distribute strategy.
            Defaults to `False`.
        name: str. Model name. Defaults to `"unet_generator"`.
        **kwargs: `keras.Model` arguments (e.g. `trainable`, `dtype`).

    Attributes:
        size_multiple: int. What height and width must be a multiple of (`2 ** depth`).
        reference_name: str. The reference implementation's name, e.g. "unet_256".

    Input shape:
        `(batch, height, width, input_channels)` with height and width
        multiples of `2 ** depth`, pixels in [-1, 1].

    Output shape:
        `(batch, height, width, output_channels)`, float32 in [-1, 1].

    Raises:
        ValueError: for an invalid argument, or an `image_size` that is not a
            multiple of `2 ** depth` ("unet_256 needs height and width divisible
            by 256, got 300x200").

    Example:

    >>> g = UNetGenerator(depth=7, ngf=16, image_size=128)
    >>> g(keras.random.uniform((1, 128, 128, 3), -1, 1)).shape
    TensorShape([1, 128, 128, 3])
    >>> g.reference_name, g.size_multiple
    ('unet_128', 128)

    Reference: Isola et al. 2017, Sec. 3.2.1 and Appendix 6.1.1 (the U-Net
    "encoder-decoder with skips"); Ronneberger et al. 2015 (U-Net); Odena et
    al. 2016, "Deconvolution and Checkerboard Artifacts" (resize-conv).
    """

    def __init__(self, depth: int = 8, input_channels: int = 3, output_channels: int = 3, ngf: int = 64,
                 norm: str = "batch", dropout: float = 0.5, upsample: str = "transpose",
                 image_size: int | tuple[int, int] | None = None, init_gain: float = 0.02,
                 sync_batch_norm: bool = False, name: str = "unet_generator", **kwargs):
        check_positive("depth", depth, minimum=2)
        height, width = check_generator_arguments(f"unet_{2 ** depth}", 2**depth, input_channels, output_channels, ngf,
                                                  norm, dropout, upsample, image_size, init_gain)
        blocks = Blocks(norm, init_gain, sync_batch_norm)
        dropout_levels = unet_dropout_levels(depth) if dropout > 0 else ()

        def filters_at(level):
            return ngf * min(2 ** (level - 1), 8)

        def up_conv(x, filters, level, bias=None):
            if upsample == "transpose":
                return blocks.conv(x, filters, 4, f"up{level}_conv", strides=2, padding="same", bias=bias,
                                   transpose=True)
            return blocks.resize_conv(x, filters, f"up{level}", bias=bias)

        # Encoder: level 1 (outermost) .. depth (1x1 bottleneck at the design size).
        # === Functional Model ===
        inputs = keras.Input(shape=(height, width, input_channels), name="image")
        encoded = []
        x = inputs
        for level in range(1, depth + 1):
            if level > 1:
                x = layers.LeakyReLU(0.2, name=f"down{level}_lrelu")(x)
            x = blocks.conv(x, filters_at(level), 4, f"down{level}_conv", strides=2, padding="same")
            if 1 < level < depth:
                x = blocks.normalize(x, f"down{level}")
            encoded.append(x)

        # Decoder: level depth .. 2 end in a skip concatenation; level 1 is the output.
        for level in range(depth, 1, -1):
            x = layers.ReLU(name=f"up{level}_relu")(x)
            x = blocks.normalize(up_conv(x, filters_at(level - 1), level), f"up{level}")
            if level in dropout_levels:
                x = NoiseDropout(dropout, at_inference=True, name=f"up{level}_dropout")(x)
            x = layers.Concatenate(name=f"up{level}_skip")([encoded[level - 2], x])

        x = layers.ReLU(name="up1_relu")(x)
        x = up_conv(x, output_channels, 1, bias=True)
        outputs = layers.Activation("tanh", dtype="float32", name="tanh")(x)
        super().__init__(inputs, outputs, locals(), name=name, **kwargs)  # each argument: an attribute, in the config

    @property
    def size_multiple(self) -> int:
        """What image height and width must be a multiple of: `2 ** depth`."""
        return 2**self.depth

    @property
    def reference_name(self) -> str:
        """The reference implementation's `--netG` name: "unet_256" for depth 8."""
        return f"unet_{2 ** self.depth}"
