"""What the network classes share: their hyperparameters as their config, and a walk over their layers.

A network's constructor arguments are its config (`CONFIG_KEYS`), so a saved network rebuilds itself. It is
built from stock Keras layers and this package's architectural ones (`layers.py`); speed-ups
(`tfgan_translate.accelerate`) are applied to a built network and never appear in its config.
"""

from __future__ import annotations

import keras

from tfgan_translate.choices import NORMS, UPSAMPLES, check_choice
from tfgan_translate.networks.layers import check_positive, check_rate


def walk_layers(layer):
    """Every layer inside `layer`, depth first, through the public `layers` attribute of models.

    Example:

    >>> [type(x).__name__ for x in walk_layers(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]))]
    ['Dense']
    """
    for child in getattr(layer, "layers", ()):
        yield child
        yield from walk_layers(child)


def check_generator_arguments(input_channels, output_channels, ngf, norm, dropout, upsample, init_gain) -> None:
    """The checks both generators run on the arguments they share, before building a layer."""
    check_positive("input_channels", input_channels)
    check_positive("output_channels", output_channels)
    check_positive("ngf", ngf)
    check_choice("norm", norm, NORMS)
    check_rate("dropout", dropout)
    check_choice("upsample", upsample, UPSAMPLES)
    check_positive("init_gain", init_gain, number=True)


class Network(keras.Model):
    """Base of `UNetGenerator`, `ResNetGenerator` and `PatchGANDiscriminator` (functional models).

    Subclasses build their graph, call `super().__init__(inputs=..., outputs=..., name=..., **kwargs)`, then
    set one attribute per name in `CONFIG_KEYS`.
    """

    CONFIG_KEYS: tuple[str, ...] = ()

    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable}
        config.update({key: getattr(self, key) for key in self.CONFIG_KEYS})
        config["dtype_policy"] = self.compute_policy
        return config

    @property
    def compute_policy(self) -> str:
        """The dtype policy the layers were built under ("float32", "mixed_bfloat16", ...); saved in the config."""
        return next(layer.dtype_policy.name for layer in self.layers if layer.weights)

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
