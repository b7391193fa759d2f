"""Maps the reference's state-dict keys onto this package's networks, tensor by tensor.

The reference (the authors' PyTorch implementation, junyanz/pytorch-CycleGAN-and-pix2pix,
models/networks.py) keeps its layers in `nn.Sequential`s, so its keys are positional:
`model.10.conv_block.1.weight` is the first convolution of the first residual block of a
ResNet generator, `model.model.1.model.2.running_mean` the encoder norm of the second
U-Net level. The reference's layout of each architecture (every tensor it saves: its key,
shape and the Keras weight it maps to) is in `tfgan_translate.reference.layouts`; this
module checks a state dict against it (`architecture.check_state_dict`) and copies the
tensors into a network built by `tfgan_translate.networks`:

- Conv2d `[out, in, kh, kw]` -> Keras `Conv2D` kernel `[kh, kw, in, out]`;
- ConvTranspose2d `[in, out, kh, kw]` -> Keras `Conv2DTranspose` kernel `[kh, kw, out, in]`
  (no spatial flip: both frameworks' transposed convolutions are the adjoint of the same
  cross-correlation; the import tests check it against PyTorch's outputs);
- BatchNorm2d weight / bias / running_mean / running_var -> gamma / beta / moving_mean /
  moving_variance (both eps 1e-5; PyTorch momentum 0.1 is Keras momentum 0.9);
  `num_batches_tracked` has no Keras counterpart and is dropped;
- InstanceNorm2d(affine=False) holds nothing; files from torch < 0.4 carry running_mean /
  running_var (and num_batches_tracked) under it, which the reference deletes before loading
  (`BaseModel.__patch_instance_norm_state_dict`): so are they here.

Every tensor of the file is used exactly once and every Keras weight is set; anything
missing, extra or mis-shaped stops the import with a `CheckpointError` that lists it and
says what the arguments imply against what the file implies (`infer_architecture`).

What the file's keys tell, and what they cannot, is in `tfgan_translate.reference.architecture`.
`state_dict_from_network` runs the mapping backwards: a network of this package as the state dict the
reference would save (a test oracle, and the way to hand a network back: `torch.save` each array there after
`torch.from_numpy`).

Reference: Isola et al. 2017 (pix2pix); Zhu et al. 2017 (CycleGAN).
"""

from __future__ import annotations

import keras
import numpy as np

from tfgan_translate.networks.layers import walk_layers
from tfgan_translate.reference.architecture import architecture_from_args, check_state_dict
from tfgan_translate.reference.layouts import _entries, _Entry


def network_args(network: keras.Model) -> dict:
    """The reference's arguments (netG, ... or netD, ...) of a network of this package, from its own.

    Args:
        network: keras.Model. A `UNetGenerator`, `ResNetGenerator` or `PatchGANDiscriminator`.

    Raises:
        ValueError: `network` is not a network of this package.
    """
    if not hasattr(network, "reference_name"):
        raise ValueError(f"Invalid value for argument `network`. Received: network={network.name!r}. Expected "
                         "a generator or discriminator of tfgan_translate.networks.")
    if hasattr(network, "ngf"):
        return {"netG": network.reference_name, "norm": network.norm, "ngf": network.ngf,
                "input_channels": network.input_channels, "output_channels": network.output_channels,
                "dropout": network.dropout}
    return {"netD": network.reference_name, "n_layers_D": network.n_layers, "norm": network.norm, "ndf": network.ndf,
            "input_channels": network.input_channels, "condition_channels": network.condition_channels}


# === Copying the tensors ===


def _variables(network: keras.Model, entries: list[_Entry]):
    """(the reference's key, the Keras variable it maps to) for each tensor of `entries` that maps to one; the key
    is None for a bias this package's layer has where the reference's module has none (set to zero). The layouts
    name this package's layers and weights, so every entry finds its place (the import tests check each one)."""
    layers = {layer.name: layer for layer in walk_layers(network)}
    for entry in entries:
        variable = getattr(layers[entry.layer], entry.weight) if entry.weight else None  # no weight: a dropped key
        if variable is not None:
            yield entry.key, variable


def assign_entries(network: keras.Model, state_dict: dict, entries: list[_Entry]) -> keras.Model:
    """Copies the tensors of `entries` (checked) from `state_dict` into `network`; a bias without a key is zero."""
    for key, variable in _variables(network, entries):
        value = np.zeros(tuple(variable.shape)) if key is None else np.asarray(state_dict[key])
        # Conv2d [out, in, kh, kw] -> [kh, kw, in, out]; ConvTranspose2d [in, out, kh, kw] -> [kh, kw, out, in];
        # Linear [out, in] -> Dense [in, out]
        value = value.transpose(2, 3, 1, 0) if value.ndim == 4 else value.T if value.ndim == 2 else value
        variable.assign(np.asarray(value, variable.dtype))
    return network


def state_from_entries(network: keras.Model, entries: list[_Entry]) -> dict:
    """The float32 arrays of `network`'s weights under the keys of `entries`, in PyTorch's layouts."""
    state = {}
    for key, variable in _variables(network, entries):
        if key is not None:
            value = np.asarray(variable.numpy(), np.float32)
            # the transposes of `assign_entries`, backwards
            value = value.transpose(3, 2, 0, 1) if value.ndim == 4 else value.T if value.ndim == 2 else value
            state[key] = np.ascontiguousarray(value)
    return state


def assign_weights(network: keras.Model, state_dict: dict, *, source: str = "the state dict") -> keras.Model:
    """Sets every weight of a generator or discriminator of this package from a reference state dict.

    The reference layout is read from the network's own arguments (`network_args`: U-Net depth or ResNet
    block count, PatchGAN depth, ngf / ndf, channels, norm, dropout), then the state dict is checked against
    it (`check_state_dict`) and copied in.

    Args:
        network: keras.Model. A generator from `tfgan_translate.networks` (`UNetGenerator`, `ResNetGenerator`,
            `build_generator`) with `upsample="transpose"`, or a discriminator (`PatchGANDiscriminator`,
            `build_discriminator`).
        state_dict: dict. Key -> array, as `read_state_dict` returns.
        source: str. What to call the state dict in errors (the file name). Defaults to `"the state dict"`.

    Returns:
        `network`, with its weights set.

    Raises:
        CheckpointError: a key missing, unexpected or mis-shaped; the message lists them and says what the
            network implies against what the file implies.
        ValueError: `network` is not a network of this package, or a generator that upsamples by resize (the
            reference's checkpoints hold transposed convolutions).

    Example:

    >>> from tfgan_translate.networks import PatchGANDiscriminator, ResNetGenerator
    >>> from tfgan_translate.reference.pth import read_state_dict
    >>> g = ResNetGenerator(n_blocks=9, norm="instance", dropout=0.0)
    >>> assign_weights(g, read_state_dict("latest_net_G.pth"), source="latest_net_G.pth")  # doctest: +SKIP
    >>> d = PatchGANDiscriminator(n_layers=3, norm="batch", input_channels=3, condition_channels=3)
    >>> assign_weights(d, read_state_dict("latest_net_D.pth"))  # doctest: +SKIP

    Reference: junyanz/pytorch-CycleGAN-and-pix2pix, models/networks.py (ResnetGenerator, UnetGenerator,
    NLayerDiscriminator, PixelDiscriminator).
    """
    args = network_args(network)
    if "netG" in args and network.upsample != "transpose":
        raise ValueError(f"Invalid value for argument `network`. Received: network={network.name!r}, which upsamples "
                         "by resize and convolution. The reference's checkpoints hold transposed convolutions: build "
                         "the generator with upsample='transpose'.")
    if getattr(network, "downsample", "stride") != "stride":
        raise ValueError(f"Invalid value for argument `network`. Received: network={network.name!r}, which "
                         f"downsamples with {network.downsample!r} (CUT's anti-aliasing). The reference's checkpoints "
                         "hold stride-2 convolutions: build the network with downsample='stride'.")
    return assign_entries(network, state_dict, check_state_dict(state_dict, args, source))


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
    >>> from tfgan_translate.reference.architecture import infer_architecture
    >>> state = state_dict_from_network(ResNetGenerator(n_blocks=1, ngf=2, norm="instance"))
    >>> state["model.1.weight"].shape, infer_architecture(state).net
    ((2, 3, 7, 7), 'resnet_1blocks')
    """
    return state_from_entries(network, _entries(architecture_from_args(network_args(network))))

