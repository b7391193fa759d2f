"""Building blocks shared by the generators and discriminators.

Holds the normalisation factory (batch / instance / none), reflection padding,
the test-time dropout that pix2pix uses as its noise source, the weight
initialiser of the reference implementation, and the argument checks every
network builder runs before it creates a layer.

Reference: Isola et al. 2017, "Image-to-Image Translation with Conditional
Adversarial Networks" (pix2pix); Zhu et al. 2017, "Unpaired Image-to-Image
Translation using Cycle-Consistent Adversarial Networks" (CycleGAN).
"""

import keras
import tensorflow as tf
from keras import layers, ops

from tfgan_translate.choices import INIT_TYPES, NORMS, check_choice
from tfgan_translate.rng import counted_uniform, draw_counter, name_seed


def conv_init(gain: float = 0.02, init: str = "normal") -> keras.initializers.Initializer:
    """The reference weight initialiser: N(0, gain), or PyTorch's `xavier_normal_` with gain `gain`.

    Args:
        gain: float. Standard deviation of the normal distribution (`"normal"`), or the gain of the Xavier
            one (`"xavier"`). Defaults to `0.02`, the value used by pix2pix, CycleGAN and CUT.
        init: str. `"normal"` (pix2pix and CycleGAN) or `"xavier"` (CUT). Defaults to `"normal"`.

    Returns:
        `keras.initializers.RandomNormal(mean=0.0, stddev=gain)` for `"normal"`; for `"xavier"` an untruncated
        `VarianceScaling(scale=gain**2, mode="fan_avg")`: std `gain * sqrt(2 / (fan_in + fan_out))` as
        PyTorch's `xavier_normal_` (Keras' `GlorotNormal` is a truncated normal, without a gain).

    Example:

    >>> layer = keras.layers.Conv2D(8, 4, kernel_initializer=conv_init())

    Reference: the DCGAN initialisation used by pix2pix and CycleGAN
    (`init_type="normal"` in their implementation); Glorot & Bengio 2010 (`init_type="xavier"`, CUT's).
    """
    check_positive("gain", gain, number=True)
    check_choice("init", init, INIT_TYPES)
    if init == "xavier":
        return keras.initializers.VarianceScaling(scale=gain**2, mode="fan_avg", distribution="untruncated_normal")
    return keras.initializers.RandomNormal(mean=0.0, stddev=gain)


@keras.saving.register_keras_serializable(package="tfgan_translate")
class InstanceNormalization(layers.GroupNormalization):
    """Instance normalisation: each channel of each sample normalised over H, W.

    A `GroupNormalization` with one group per channel. By default it has no
    learned scale or offset, like the reference's `InstanceNorm2d(affine=False)`.
    The statistics are computed in float32 even under mixed precision. For
    4-D channels-last inputs they are the mean and variance over height and
    width of the 4-D tensor: ops that convert to builtin TFLite MEAN / SUB /
    MUL / RSQRT ops that XNNPACK runs (int8 too), unlike
    GroupNormalization's 5-D reshape. (In training, `tfgan_translate.accelerate`
    runs batches of one sample through TensorFlow's fused batch-norm kernel.)

    Args:
        epsilon: float. Added to the variance. Defaults to `1e-5` (PyTorch's value).
        center: bool. Learn an offset per channel. Defaults to `False`.
        scale: bool. Learn a scale per channel. Defaults to `False`.
        **kwargs: other `keras.layers.GroupNormalization` arguments except
            `groups` (always one per channel), e.g. `name`, `dtype`.

    Call arguments:
        inputs: tensor of shape `(batch, height, width, channels)`.

    Returns:
        A tensor of the same shape and dtype as `inputs`.

    Example:

    >>> norm = InstanceNormalization()
    >>> y = norm(keras.random.normal((2, 8, 8, 3)))  # zero mean, unit variance per channel

    Reference: Ulyanov et al. 2016, "Instance Normalization: The Missing
    Ingredient for Fast Stylization"; used by CycleGAN.
    """

    def __init__(self, epsilon: float = 1e-5, center: bool = False, scale: bool = False, **kwargs):
        groups = kwargs.pop("groups", -1)
        if groups != -1:
            raise ValueError(f"Invalid value for argument `groups`. Received: groups={groups!r}. "
                             "InstanceNormalization always uses one group per channel (groups=-1).")
        super().__init__(groups=-1, epsilon=epsilon, center=center, scale=scale, **kwargs)

    def call(self, inputs, training=None):
        if len(inputs.shape) != 4 or self.axis not in (-1, 3):
            return super().call(inputs)
        x = ops.cast(inputs, "float32")
        centred = x - ops.mean(x, axis=(1, 2), keepdims=True)
        # mean(d * d), not mean(square(x - mean)): the converter fuses the latter into SQUARED_DIFFERENCE,
        # which XNNPACK does not take when quantized (int8 exports).
        variance = ops.mean(centred * centred, axis=(1, 2), keepdims=True)
        y = centred * ops.rsqrt(variance + self.epsilon)
        if self.scale:
            y = y * ops.cast(self.gamma, "float32")
        if self.center:
            y = y + ops.cast(self.beta, "float32")
        return ops.cast(y, self.compute_dtype)

    def get_config(self):
        config = super().get_config()
        config.pop("groups", None)  # set to the channel count once built; implied anyway
        return config


def normalization(norm: str, name: str | None = None, init_gain: float = 0.02,
                  synchronized: bool = False) -> layers.Layer | None:
    """Makes the normalisation layer named by `norm`, or None for no norm.

    Args:
        norm: str. One of `"batch"`, `"instance"`, `"none"`.
            - `"batch"`: `keras.layers.BatchNormalization(momentum=0.9,
              epsilon=1e-5)`, the equivalent of PyTorch's `BatchNorm2d`
              (momentum 0.1 there), with scale ~ N(1, init_gain) and zero offset.
            - `"instance"`: `InstanceNormalization()` without learned affine.
            - `"none"`: returns `None`; callers skip the layer.
        name: str or None. Layer name. Defaults to `None` (automatic).
        init_gain: float. Standard deviation of the batch-norm scale
            initialiser. Defaults to `0.02`.
        synchronized: bool. For `"batch"`: compute the batch statistics
            over all the replicas of a tf.distribute strategy (sync batch
            norm), i.e. over the global batch. Ignored by the other norms.
            Defaults to `False`.

    Returns:
        A Keras layer, or `None` for `norm="none"`.

    Example:

    >>> layer = normalization("instance", name="down2_norm")
    >>> normalization("none") is None
    True

    Reference: pix2pix uses batch norm; CycleGAN uses instance norm.
    """
    check_choice("norm", norm, NORMS)
    if norm == "batch":
        return layers.BatchNormalization(momentum=0.9, epsilon=1e-5, synchronized=bool(synchronized), name=name,
                                         gamma_initializer=keras.initializers.RandomNormal(mean=1.0, stddev=init_gain))
    if norm == "instance":
        return InstanceNormalization(name=name)
    return None


@keras.saving.register_keras_serializable(package="tfgan_translate")
class ReflectionPadding2D(layers.Layer):
    """Pads height and width by mirroring the image, without repeating the edge.

    Like PyTorch's `ReflectionPad2d`: `[1, 2, 3]` padded by 2 is
    `[3, 2, 1, 2, 3, 2, 1]`. Channels-last only. Converts to TFLite's builtin
    MIRROR_PAD.

    Args:
        padding: int. Rows and columns added on each side; must be smaller
            than the height and width of the input.
        **kwargs: base `keras.layers.Layer` arguments, e.g. `name`, `dtype`.

    Call arguments:
        inputs: tensor of shape `(batch, height, width, channels)`.

    Returns:
        A tensor of shape `(batch, height + 2 * padding, width + 2 * padding, channels)`.

    Example:

    >>> pad = ReflectionPadding2D(3)
    >>> pad(keras.ops.zeros((1, 16, 16, 3))).shape
    TensorShape([1, 22, 22, 3])

    Reference: Zhu et al. 2017 (CycleGAN), Appendix 7.2: reflection padding
    "to reduce artifacts" in the ResNet generator.
    """

    def __init__(self, padding: int, **kwargs):
        super().__init__(**kwargs)
        check_positive("padding", padding)
        self.padding = int(padding)

    def call(self, inputs):
        p = self.padding
        return ops.pad(inputs, [[0, 0], [p, p], [p, p], [0, 0]], mode="reflect")

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        height, width = (None if size is None else size + 2 * self.padding for size in (height, width))
        return batch, height, width, channels

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


@keras.saving.register_keras_serializable(package="tfgan_translate")
class NoiseDropout(layers.Layer):
    """Dropout that can stay on at inference: pix2pix's only noise source.

    Active when the layer is called with `training=True`, or at any time while
    `at_inference` is True. Kept values are scaled by `1 / (1 - rate)`, so the
    mean is preserved. In training the mask comes from a stateless generator
    keyed by a saved counter (`tfgan_translate.rng`), so a resumed run draws the
    same masks as an uninterrupted one. At inference it comes from
    `tf.random.uniform`.

    `at_inference` is a plain attribute: set it to False before tracing for a
    deterministic network. A function already traced (such as the one `predict`
    caches) keeps the value it was traced with. translate, evaluate and export do
    not call this layer at test time: they run `inference_mode.inference_generator`'s
    copy, where it is an `InferenceDropout` (the test-time dropout on; TFLite's
    builtin RANDOM_UNIFORM in an export) or an identity (off).

    Args:
        rate: float. Fraction of the units dropped, in `[0, 1)`.
        at_inference: bool. Whether dropout is also applied when `training` is
            False or not given. Defaults to `True` (pix2pix, Sec. 3.1).
        **kwargs: base `keras.layers.Layer` arguments, e.g. `name`, `dtype`.

    Call arguments:
        inputs: tensor of any shape.
        training: bool or None. Whether the model is training.

    Returns:
        A tensor of the same shape and dtype as `inputs`.

    Example:

    >>> drop = NoiseDropout(0.5)
    >>> y = drop(keras.ops.ones((1, 4, 4, 8)))  # random: values are 0 or 2
    >>> drop.at_inference = False
    >>> z = drop(keras.ops.ones((1, 4, 4, 8)))  # identity

    Reference: Isola et al. 2017, Sec. 3.1: "we provide noise only in the form
    of dropout, applied on several layers of our generator at both training and
    test time."
    """

    def __init__(self, rate: float, at_inference: bool = True, **kwargs):
        super().__init__(**kwargs)
        check_rate("rate", rate)
        if not isinstance(at_inference, bool):
            raise ValueError(f"Invalid value for argument `at_inference`. Received: at_inference={at_inference!r}. "
                             "Expected True or False.")
        self.rate = float(rate)
        self.at_inference = at_inference
        self.supports_masking = True
        self.draws = draw_counter(self)

    def call(self, inputs, training=None):
        if self.rate == 0.0 or not (bool(training) or self.at_inference):
            return inputs
        if training:
            noise = counted_uniform(tf.shape(inputs), name_seed(self.name), self.draws)
        else:
            # float32 uniform noise: the dtype TFLite's RANDOM_UNIFORM supports.
            noise = tf.random.uniform(tf.shape(inputs), dtype=tf.float32)
        keep = ops.cast(noise >= self.rate, inputs.dtype)
        return inputs * keep * ops.cast(1.0 / (1.0 - self.rate), inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "at_inference": self.at_inference}


# === Argument checks shared by the network builders ===


def check_positive(name: str, value, *, number: bool = False, minimum: int = 1, optional: bool = False) -> None:
    """Raises ValueError unless `value` is an int >= `minimum` (`number`: a number > 0; `optional`: or None)."""
    if optional and value is None:
        return
    if number:
        valid, expected = isinstance(value, (int, float)) and value > 0, "a positive number"
    else:
        valid, expected = isinstance(value, int) and value >= minimum, f"an integer >= {minimum}"
    if isinstance(value, bool) or not valid:
        raise ValueError(f"Invalid value for argument `{name}`. Received: {name}={value!r}. Expected {expected}"
                         f"{' or None' if optional else ''}.")


def check_rate(name: str, value) -> None:
    """Raises ValueError unless `value` is a number in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ValueError(
            f"Invalid value for argument `{name}`. Received: {name}={value!r}. Expected a float in [0, 1)."
        )


def spatial_shape(image_size) -> tuple[int | None, int | None]:
    """Parses `image_size` (int, `(height, width)` or None) into `(height, width)`."""
    if image_size is None:
        return None, None
    pair = (image_size, image_size) if isinstance(image_size, int) else image_size
    if isinstance(pair, (tuple, list)) and len(pair) == 2 and all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in pair):
        return int(pair[0]), int(pair[1])
    raise ValueError(f"Invalid value for argument `image_size`. Received: image_size={image_size!r}. "
                     "Expected a positive int, a (height, width) pair of positive ints, or None for any size.")


def check_divisible(label: str, multiple: int, height: int | None, width: int | None) -> None:
    """Raises ValueError unless the known sizes are multiples of `multiple`.

    Example message: "unet_256 needs height and width divisible by 256, got 300x200"
    (height x width).
    """
    if any(size is not None and size % multiple for size in (height, width)):
        raise ValueError(f"{label} needs height and width divisible by {multiple}, got {height}x{width}")


def walk_layers(layer):
    """Every layer inside `layer`, depth first, through the public `layers` attribute of models.

    Example:

    >>> [type(x).__name__ for x in walk_layers(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]))]
    ['Dense']
    """
    for child in getattr(layer, "layers", ()):
        yield child
        yield from walk_layers(child)
