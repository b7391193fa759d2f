"""Generators and discriminators of pix2pix and CycleGAN, by the reference's names.

Generators: "unet_256", "unet_128" (U-Net, pix2pix) and "resnet_9blocks",
"resnet_6blocks" (ResNet, CycleGAN). Discriminators: "basic" (70x70
PatchGAN), "n_layers" (PatchGAN of depth `n_layers_D`) and "pixel" (1x1).

Example:

>>> g = build_generator("unet_256", ngf=64, norm="batch", image_size=256)
>>> d = build_discriminator("basic", input_channels=3, condition_channels=3)
>>> check_image_size("unet_256", 300, 200)
Traceback (most recent call last):
ValueError: unet_256 needs height and width divisible by 256, got 300x200

Reference: Isola et al. 2017 (pix2pix); Zhu et al. 2017 (CycleGAN).
"""

from __future__ import annotations

import keras

from tfgan_translate.config import parse_generator_name

from tfgan_translate.networks.layers import (
    NORMS,
    UPSAMPLES,
    FusedBatchNormalization,
    InstanceNormalization,
    NoiseDropout,
    ReflectionPadding2D,
    check_choice,
    check_divisible,
    conv_init,
    normalization,
)
from tfgan_translate.networks.patch_gan import (
    PATCH_KINDS,
    patch_discriminator,
    patch_output_size,
    patch_receptive_field,
)
from tfgan_translate.networks.resnet import resnet_generator
from tfgan_translate.networks.unet import unet_dropout_levels, unet_generator
from tfgan_translate.networks.winograd import WinogradConv2D, set_winograd, winograd_conv2d

# The reference's names; any unet_<2**depth> and resnet_<n>blocks is accepted too.
GENERATORS = ("unet_256", "unet_128", "resnet_9blocks", "resnet_6blocks")


def _generator_builder(netG: str):
    """(builder, the argument that sets its size) for a generator name."""
    family, size = parse_generator_name(netG)
    if family == "unet":
        return unet_generator, {"depth": size}
    return resnet_generator, {"n_blocks": size}
DISCRIMINATORS = ("basic", "n_layers", "pixel")

_GENERATOR_KWARGS = (
    "input_channels", "output_channels", "ngf", "norm", "dropout", "upsample", "image_size", "init_gain",
    "sync_batch_norm", "name",
)
_DISCRIMINATOR_KWARGS = (
    "input_channels", "condition_channels", "ndf", "norm", "image_size", "init_gain", "sync_batch_norm", "name",
)


def generator_size_multiple(netG: str) -> int:
    """What image height and width must be a multiple of for generator `netG`.

    Args:
        netG: str. A generator name: one of `GENERATORS`, or unet_<2**depth> / resnet_<n>blocks.

    Returns:
        256 for "unet_256", 128 for "unet_128", 4 for "resnet_*".

    Example:

    >>> generator_size_multiple("unet_128")
    128
    """
    builder, size_kwargs = _generator_builder(netG)
    return 2 ** size_kwargs["depth"] if builder is unet_generator else 4


def check_image_size(netG: str, height: int, width: int) -> None:
    """Raises ValueError unless `height` and `width` suit generator `netG`.

    Args:
        netG: str. A generator name: one of `GENERATORS`, or unet_<2**depth> / resnet_<n>blocks.
        height: int. Image height in pixels.
        width: int. Image width in pixels.

    Raises:
        ValueError: e.g. "unet_256 needs height and width divisible by 256, got 300x200".

    Example:

    >>> check_image_size("resnet_9blocks", 256, 512)  # fine: returns None
    """
    check_divisible(netG, generator_size_multiple(netG), height, width)


def build_generator(netG: str, **kwargs) -> keras.Model:
    """Builds generator `netG` by its reference name.

    Args:
        netG: str. One of `GENERATORS` (or any unet_<2**depth> / resnet_<n>blocks): "unet_256" (`unet_generator(depth=8)`),
            "unet_128" (depth 7), "resnet_9blocks" (`resnet_generator(n_blocks=9)`),
            "resnet_6blocks" (6 blocks).
        **kwargs: passed to the builder: `input_channels`, `output_channels`,
            `ngf`, `norm`, `dropout`, `upsample`, `image_size`, `init_gain`,
            `sync_batch_norm`, `name`. Builder defaults apply to the ones left
            out (note: the U-Net defaults to batch norm and dropout 0.5, the
            ResNet to instance norm and no dropout).

    Returns:
        A functional `keras.Model` mapping `(batch, H, W, input_channels)` to
        `(batch, H, W, output_channels)` in [-1, 1].

    Example:

    >>> g = build_generator("resnet_6blocks", ngf=32, image_size=128)
    """
    _check_kwargs("build_generator", kwargs, _GENERATOR_KWARGS)
    builder, size_kwargs = _generator_builder(netG)
    return builder(**size_kwargs, **kwargs)


def build_discriminator(netD: str, n_layers_D: int = 3, **kwargs) -> keras.Model:
    """Builds discriminator `netD` by its reference name.

    Args:
        netD: str. One of `DISCRIMINATORS`: "basic" (70x70 PatchGAN,
            `n_layers=3`), "n_layers" (PatchGAN with `n_layers_D` layers),
            "pixel" (1x1 PixelGAN).
        n_layers_D: int. Depth for `netD="n_layers"`; ignored otherwise.
            Defaults to `3`.
        **kwargs: passed to `patch_discriminator`: `input_channels`,
            `condition_channels`, `ndf`, `norm`, `image_size`, `init_gain`,
            `sync_batch_norm`, `name`.

    Returns:
        A functional `keras.Model` mapping the `[x, y]` channel concatenation
        to `(batch, h, w, 1)` float32 logits.

    Example:

    >>> d = build_discriminator("n_layers", n_layers_D=5, condition_channels=0)  # 286x286
    """
    check_choice("netD", netD, DISCRIMINATORS)
    _check_kwargs("build_discriminator", kwargs, _DISCRIMINATOR_KWARGS)
    if netD == "pixel":
        return patch_discriminator(kind="pixel", **kwargs)
    n_layers = 3 if netD == "basic" else n_layers_D
    return patch_discriminator(kind="n_layers", n_layers=n_layers, **kwargs)


def _check_kwargs(function: str, kwargs: dict, allowed: tuple) -> None:
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise TypeError(f"{function}() got unexpected keyword arguments {unknown}. Allowed: {list(allowed)}.")


__all__ = [
    "DISCRIMINATORS",
    "GENERATORS",
    "NORMS",
    "PATCH_KINDS",
    "UPSAMPLES",
    "FusedBatchNormalization",
    "InstanceNormalization",
    "NoiseDropout",
    "ReflectionPadding2D",
    "WinogradConv2D",
    "build_discriminator",
    "build_generator",
    "check_image_size",
    "conv_init",
    "generator_size_multiple",
    "normalization",
    "patch_discriminator",
    "patch_output_size",
    "patch_receptive_field",
    "resnet_generator",
    "set_winograd",
    "unet_dropout_levels",
    "unet_generator",
    "winograd_conv2d",
]
