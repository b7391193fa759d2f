"""What the network classes share: their arguments as their config, the layers they build with, a walk over them.

A network's constructor arguments are its config (the names of its signature), so a saved network rebuilds
itself. It is built from stock Keras layers and this package's architectural ones (`layers.py`); speed-ups
(`tfgan_translate.accelerate`) are applied to a built network and never appear in its config.
"""

import inspect

import keras
from keras import layers

from tfgan_translate.choices import NORMS, UPSAMPLES, check_choice
from tfgan_translate.networks.layers import (
    check_divisible,
    check_positive,
    check_rate,
    conv_init,
    normalization,
    spatial_shape,
)


def check_generator_arguments(reference_name, size_multiple, input_channels, output_channels, ngf, norm, dropout,
                              upsample, image_size, init_gain, upsamples=UPSAMPLES) -> tuple[int | None, int | None]:
    """The checks both generators run on the arguments they share, before building a layer.

    `upsamples` are the `upsample` values the generator takes (the ResNet's `RESNET_UPSAMPLES` add "blur").

    Returns:
        `(height, width)` of `image_size` (None for any size), multiples of `size_multiple`.
    """
    check_positive("input_channels", input_channels)
    check_positive("output_channels", output_channels)
    check_positive("ngf", ngf)
    check_choice("norm", norm, NORMS)
    check_rate("dropout", dropout)
    check_choice("upsample", upsample, upsamples)
    check_positive("init_gain", init_gain, number=True)
    height, width = spatial_shape(image_size)
    check_divisible(reference_name, size_multiple, height, width)
    return height, width


class Blocks:
    """The layers of one network, made with its `norm`, `init_gain`, `sync_batch_norm` and weight `init`.

    Each method adds named layers to the functional graph and returns their output. A convolution has a
    bias unless batch norm follows it (`bias=None`), like the reference's.
    """

    def __init__(self, norm: str, init_gain: float, sync_batch_norm: bool, init: str = "normal"):
        self.norm, self.init_gain, self.sync_batch_norm, self.init = norm, init_gain, sync_batch_norm, init

    def conv(self, x, filters, kernel, name, *, strides=1, padding="valid", bias=None, transpose=False, **kwargs):
        """A `Conv2D` (or with `transpose` a `Conv2DTranspose`) initialised by `conv_init(init_gain, init)`."""
        conv_class = layers.Conv2DTranspose if transpose else layers.Conv2D
        return conv_class(filters, kernel, strides=strides, padding=padding,
                          use_bias=self.norm != "batch" if bias is None else bias,
                          kernel_initializer=conv_init(self.init_gain, self.init), name=name, **kwargs)(x)

    def normalize(self, x, prefix):
        """The norm layer `{prefix}_norm`; `x` itself for norm "none"."""
        layer = normalization(self.norm, name=f"{prefix}_norm", init_gain=self.init_gain,
                              synchronized=self.sync_batch_norm)
        return x if layer is None else layer(x)

    def resize_conv(self, x, filters, prefix, bias=None):
        """Up-convolution without checkerboard artefacts: nearest-neighbour x2 resize, 3x3 convolution."""
        x = layers.UpSampling2D(2, interpolation="nearest", name=f"{prefix}_resize")(x)
        return self.conv(x, filters, 3, f"{prefix}_conv", padding="same", bias=bias)


class Network(keras.Model):
    """Base of `UNetGenerator`, `ResNetGenerator` and `PatchGANDiscriminator` (functional models).

    A subclass checks its arguments, builds its graph, then calls
    `super().__init__(inputs, outputs, locals(), name=name, **kwargs)`: every argument of its signature
    (but `name` and `kwargs`) becomes an attribute and an entry of its config.
    """

    def __init__(self, inputs, outputs, arguments: dict, **kwargs):
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        for key in self.config_keys():
            setattr(self, key, arguments[key])
        if getattr(self, "image_size", None) is not None:  # saved as [height, width]
            self.image_size = list(spatial_shape(self.image_size))

    @classmethod
    def config_keys(cls) -> list[str]:
        """The constructor arguments a config holds, in the signature's order."""
        return [key for key in inspect.signature(cls.__init__).parameters if key not in ("self", "name", "kwargs")]

    def get_config(self) -> dict:
        arguments = {key: getattr(self, key) for key in self.config_keys()}
        return {"name": self.name, "trainable": self.trainable, **arguments, "dtype_policy": self.compute_policy}

    @property
    def compute_policy(self) -> str:
        """The dtype policy the layers were built under ("float32", "mixed_bfloat16", ...); saved in the config."""
        return next(layer.dtype_policy.name for layer in self.layers if layer.weights)

    @classmethod
    def from_preset(cls, preset, **kwargs):
        """This network with the PyTorch reference's weights, as keras-hub's `from_preset` builds a model.

        Args:
            preset: str, path-like or dict. A preset name (`tfgan_translate.reference.preset_names()`; generators
                only, of this class's family), downloaded once into a cache; a `.pth` file (or its state dict),
                whose tensors give the architecture; or a reference `checkpoints/NAME/` folder (its G or G_A file
                for a generator, D or D_A for a discriminator).
            **kwargs: `epoch` (with a folder), `cache_dir` (with a name) and constructor arguments (`image_size`,
                `name`, `dropout`, ...), which with a file override what it says.

        Raises:
            ValueError: an unknown name, or one of another family (the line names the class that loads it).
            CheckpointError: the file does not fit `kwargs` (each differing tensor listed).
            DownloadError: offline: one line naming the address and how to pass a local file instead.

        Example:

        >>> g = ResNetGenerator.from_preset("horse2zebra")  # doctest: +SKIP
        >>> g = UNetGenerator.from_preset("pix2pix_facades_label2photo")  # doctest: +SKIP
        >>> d = PatchGANDiscriminator.from_preset("checkpoints/facades_pix2pix")  # doctest: +SKIP
        """
        from tfgan_translate.reference.loader import load_network  # the loader imports the networks' helpers

        return load_network(cls, preset, **kwargs)

    @classmethod
    def from_config(cls, config: dict):
        """Rebuilds the network under the dtype policy it was saved with (a mixed-precision run stays one)."""
        config = dict(config)
        config.pop("layer_settings", None)  # saved before the speed-ups left the networks; nothing to keep
        policy = config.pop("dtype_policy", None)
        previous = keras.mixed_precision.global_policy()
        if policy is not None:
            keras.mixed_precision.set_global_policy(policy)
        try:
            return cls(**config)
        finally:
            keras.mixed_precision.set_global_policy(previous)
