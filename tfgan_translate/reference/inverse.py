"""The mapping run backwards: a network of this package as the state dict the reference would save.

A test oracle (import what was exported, compare weight by weight) and the way to hand a network back to
the reference (`torch.save(state_dict, path)` there, after `torch.from_numpy` of each array).

Example:

>>> from tfgan_translate.networks import PatchGANDiscriminator
>>> state = state_dict_from_network(PatchGANDiscriminator(input_channels=3, condition_channels=0, ndf=4))
>>> state["model.0.weight"].shape
(4, 3, 4, 4)
"""

from __future__ import annotations

import keras
import numpy as np

# The mapping's own description of the layout (private to the reference package), so that it is written once.
from tfgan_translate.reference.architecture import _discriminator_architecture, _find_layer, _generator_architecture
from tfgan_translate.reference.layouts import _slots


def state_dict_from_network(network: keras.Model) -> dict:
    """The state dict the reference would save for a network of this package: the mapping run backwards.

    Args:
        network: keras.Model. A generator (`upsample="transpose"`) or discriminator of
            `tfgan_translate.networks`.

    Returns:
        A dict from the reference's keys to float32 numpy arrays in PyTorch's layouts (no
        `num_batches_tracked`), which `from_preset` reads back exactly.

    Raises:
        ValueError: `network` is not a network of this package.

    Example:

    >>> from tfgan_translate.networks import ResNetGenerator
    >>> from tfgan_translate.reference import infer_architecture
    >>> state = state_dict_from_network(ResNetGenerator(n_blocks=1, ngf=2, norm="instance"))
    >>> state["model.1.weight"].shape, infer_architecture(state).net
    ((2, 3, 7, 7), 'resnet_1blocks')
    """
    try:
        arch = _generator_architecture(network)
    except ValueError:
        arch = _discriminator_architecture(network)
    state = {}
    for slot in _slots(arch):
        layer = _find_layer(network, slot.layer)
        if slot.kind == "norm":
            if slot.norm == "batch":
                for torch_name, keras_name in (("weight", "gamma"), ("bias", "beta"), ("running_mean", "moving_mean"),
                                               ("running_var", "moving_variance")):
                    state[f"{slot.prefix}.{torch_name}"] = np.asarray(getattr(layer, keras_name).numpy(), np.float32)
            continue
        # Keras [kh, kw, in, out] -> Conv2d [out, in, kh, kw]; [kh, kw, out, in] -> ConvTranspose2d [in, out, kh, kw]
        state[f"{slot.prefix}.weight"] = np.ascontiguousarray(np.asarray(layer.kernel.numpy(), np.float32)
                                                              .transpose(3, 2, 0, 1))
        if slot.bias:
            state[f"{slot.prefix}.bias"] = np.asarray(layer.bias.numpy(), np.float32)
    return state


__all__ = ["state_dict_from_network"]
