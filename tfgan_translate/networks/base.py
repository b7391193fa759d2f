"""What the network classes share: their hyperparameters as their config, and per-layer switches kept.

A network's constructor arguments are its config (`CONFIG_KEYS`), so a saved network rebuilds itself.
Two switches live on single layers and can be flipped after building: `NoiseDropout.at_inference`
(pix2pix's test-time noise) and `WinogradConv2D.winograd` (the CPU kernel). Flipped ones are saved as
`layer_settings` ({layer name: {attribute: value}}) and applied again when the network is rebuilt.
"""

from __future__ import annotations

import keras

from tfgan_translate.choices import NORMS, UPSAMPLES, check_choice
from tfgan_translate.networks.layers import NoiseDropout, check_positive, check_rate
from tfgan_translate.networks.winograd import WinogradConv2D

# Layer attributes that may change after building, with the value every layer is built with.
_SWITCHES = ((NoiseDropout, "at_inference", True), (WinogradConv2D, "winograd", True))


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

    Subclasses build their graph, call `super().__init__(inputs=..., outputs=..., name=..., **kwargs)`,
    set one attribute per name in `CONFIG_KEYS`, then call `self._apply_layer_settings(layer_settings)`.
    """

    CONFIG_KEYS: tuple[str, ...] = ()

    def _apply_layer_settings(self, layer_settings: dict | None) -> None:
        layers = {layer.name: layer for layer in self.layers}
        for name, values in (layer_settings or {}).items():
            if name not in layers:
                raise ValueError(f"Invalid value for argument `layer_settings`: {type(self).__name__} has no layer "
                                 f"{name!r}.")
            for attribute, value in values.items():
                if not any(isinstance(layers[name], cls) and attribute == attr for cls, attr, _ in _SWITCHES):
                    raise ValueError(f"Invalid value for argument `layer_settings`: {attribute!r} of layer {name!r} "
                                     "is not a switch that may be set.")
                setattr(layers[name], attribute, value)

    def layer_settings(self) -> dict:
        """The switches that differ from how the layers were built: {layer name: {attribute: value}}."""
        settings = {}
        for layer in self.layers:
            for cls, attribute, built_with in _SWITCHES:
                if isinstance(layer, cls) and getattr(layer, attribute) != built_with:
                    settings.setdefault(layer.name, {})[attribute] = getattr(layer, attribute)
        return settings

    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable}
        config.update({key: getattr(self, key) for key in self.CONFIG_KEYS})
        config["layer_settings"] = self.layer_settings()
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
        policy = config.pop("dtype_policy", None)
        previous = keras.mixed_precision.global_policy()
        if policy is not None:
            keras.mixed_precision.set_global_policy(policy)
        try:
            return cls(**config)
        finally:
            keras.mixed_precision.set_global_policy(previous)
