"""Generators and discriminators of pix2pix, CycleGAN and CUT, as Keras classes and by the reference's names.

Classes (functional Keras models whose config holds every hyperparameter; a saved network rebuilds
itself, and any caller asks it its geometry: `size_multiple`, `reference_name`):
`UNetGenerator` (pix2pix), `ResNetGenerator` (CycleGAN; CUT's with `downsample="blur"`,
`upsample="blur"`, `init="xavier"`, and its PatchNCE feature taps), `PatchGANDiscriminator` (N x N PatchGAN,
1 x 1 PixelGAN; CUT's anti-aliased one with `downsample="blur"`). By name: generators "unet_256",
"unet_128" (any unet_<2**depth>) and "resnet_9blocks", "resnet_6blocks" (any resnet_<n>blocks);
discriminators "basic" (70x70 PatchGAN), "n_layers" (PatchGAN of depth `n_layers_D`) and "pixel" (1x1).

Example:

>>> g = build_generator("unet_256", ngf=64, norm="batch", image_size=256)
>>> d = build_discriminator("basic", input_channels=3, condition_channels=3)
>>> check_image_size("unet_256", 300, 200)
Traceback (most recent call last):
ValueError: unet_256 needs height and width divisible by 256, got 300x200

Reference: Isola et al. 2017 (pix2pix); Zhu et al. 2017 (CycleGAN); Park et al. 2020 (CUT).
"""

from tfgan_translate.choices import (
    DISCRIMINATORS,
    DOWNSAMPLES,
    INIT_TYPES,
    NORMS,
    RESNET_UPSAMPLES,
    UPSAMPLES,
    check_choice,
)
from tfgan_translate.config import parse_generator_name
from tfgan_translate.networks.layers import (
    InstanceNormalization,
    NoiseDropout,
    ReflectionPadding2D,
    check_divisible,
    conv_init,
    normalization,
    walk_layers,
)
from tfgan_translate.networks.patch_gan import (
    PATCH_KINDS,
    PatchGANDiscriminator,
    patch_output_size,
    patch_receptive_field,
)
from tfgan_translate.networks.resnet import ResNetGenerator
from tfgan_translate.networks.unet import UNetGenerator, unet_dropout_levels

# The reference's names; any unet_<2**depth> and resnet_<n>blocks is accepted too.
GENERATORS = ("unet_256", "unet_128", "resnet_9blocks", "resnet_6blocks")


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
    family, size = parse_generator_name(netG)
    check_divisible(netG, 2**size if family == "unet" else 4, height, width)  # a U-Net's 2**depth, a ResNet's 4


def size_multiple(generator) -> int:
    """What height and width must be a multiple of for `generator`, asked of the network itself.

    Args:
        generator: a `UNetGenerator` or `ResNetGenerator` (anything with a `size_multiple`).

    Raises:
        ValueError: for a model of another kind, which cannot tell its geometry.
    """
    multiple = getattr(generator, "size_multiple", None)
    if not isinstance(multiple, int):
        raise ValueError(f"Invalid value for argument `generator`. Received: a {type(generator).__name__} named "
                         f"{getattr(generator, 'name', '?')!r}. Expected a tfgan_translate generator (UNetGenerator or "
                         "ResNetGenerator), which knows its size rule.")
    return multiple


def build_generator(netG: str, *, input_channels: int = 3, output_channels: int = 3, ngf: int = 64,
                    norm: str | None = None, dropout: float | None = None, upsample: str = "transpose",
                    image_size: int | None = None, init_gain: float = 0.02, sync_batch_norm: bool = False,
                    name: str | None = None, downsample: str = "stride",
                    init: str = "normal") -> UNetGenerator | ResNetGenerator:
    """Builds generator `netG` by its reference name.

    Args:
        netG: str. One of `GENERATORS` (or any unet_<2**depth> / resnet_<n>blocks): "unet_256"
            (`UNetGenerator(depth=8)`), "unet_128" (depth 7), "resnet_9blocks" (`ResNetGenerator(n_blocks=9)`),
            "resnet_6blocks" (6 blocks).
        input_channels, output_channels, ngf, upsample, image_size, init_gain, sync_batch_norm: as the
            classes take them.
        norm, dropout, name: str, float, str or None. None: the class's default (the U-Net has batch norm
            and dropout 0.5, the ResNet instance norm and no dropout).
        downsample, init: str. `ResNetGenerator`'s (CUT: "blur", "xavier"); a U-Net takes only the defaults,
            "stride" and "normal" (ValueError otherwise).

    Returns:
        A `UNetGenerator` or `ResNetGenerator` mapping `(batch, H, W, input_channels)` to
        `(batch, H, W, output_channels)` in [-1, 1].

    Example:

    >>> g = build_generator("resnet_6blocks", ngf=32, image_size=128)
    """
    family, size = parse_generator_name(netG)
    cls, size_kwargs = (UNetGenerator, {"depth": size}) if family == "unet" else (ResNetGenerator, {"n_blocks": size})
    optional = {key: value for key, value in (("norm", norm), ("dropout", dropout), ("name", name))
                if value is not None}
    if family == "unet":
        for key, value, default in (("downsample", downsample, "stride"), ("init", init, "normal")):
            check_choice(key, value, (default,))  # the U-Net has neither option
    else:
        optional.update(downsample=downsample, init=init)
    return cls(**size_kwargs, input_channels=input_channels, output_channels=output_channels, ngf=ngf,
               upsample=upsample, image_size=image_size, init_gain=init_gain, sync_batch_norm=sync_batch_norm,
               **optional)


def build_discriminator(netD: str, n_layers_D: int = 3, *, input_channels: int = 3, condition_channels: int = 3,
                        ndf: int = 64, norm: str = "batch", image_size: int | None = None, init_gain: float = 0.02,
                        sync_batch_norm: bool = False, name: str | None = None, downsample: str = "stride",
                        init: str = "normal") -> PatchGANDiscriminator:
    """Builds discriminator `netD` by its reference name.

    Args:
        netD: str. One of `DISCRIMINATORS`: "basic" (70x70 PatchGAN, `n_layers=3`), "n_layers" (PatchGAN with
            `n_layers_D` layers), "pixel" (1x1 PixelGAN).
        n_layers_D: int. Depth for `netD="n_layers"`; ignored otherwise. Defaults to `3`.
        input_channels, condition_channels, ndf, norm, image_size, init_gain, sync_batch_norm, downsample,
            init: as `PatchGANDiscriminator` takes them (CUT: downsample "blur", init "xavier").
        name: str or None. None: the class's default.

    Returns:
        A `PatchGANDiscriminator` mapping the `[x, y]` channel concatenation
        to `(batch, h, w, 1)` float32 logits.

    Example:

    >>> d = build_discriminator("n_layers", n_layers_D=5, condition_channels=0)  # 286x286
    """
    check_choice("netD", netD, DISCRIMINATORS)
    kind = {"basic": {"n_layers": 3}, "n_layers": {"n_layers": n_layers_D}, "pixel": {"kind": "pixel"}}[netD]
    return PatchGANDiscriminator(**kind, input_channels=input_channels, condition_channels=condition_channels,
                                 ndf=ndf, norm=norm, image_size=image_size, init_gain=init_gain,
                                 sync_batch_norm=sync_batch_norm, downsample=downsample, init=init,
                                 **({"name": name} if name else {}))


__all__ = ["DISCRIMINATORS", "DOWNSAMPLES", "GENERATORS", "INIT_TYPES", "NORMS", "PATCH_KINDS", "RESNET_UPSAMPLES",
           "UPSAMPLES", "InstanceNormalization", "NoiseDropout", "PatchGANDiscriminator",
           "ReflectionPadding2D", "ResNetGenerator", "UNetGenerator", "build_discriminator", "build_generator",
           "check_choice", "check_image_size", "conv_init", "normalization", "patch_output_size",
           "patch_receptive_field", "size_multiple", "unet_dropout_levels", "walk_layers"]
