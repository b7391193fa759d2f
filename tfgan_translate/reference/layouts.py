"""The reference's state-dict layout per architecture: every tensor it saves, as an `_Entry`.

The reference (junyanz/pytorch-CycleGAN-and-pix2pix, models/networks.py) keeps its layers in
`nn.Sequential`s, so a tensor's key is the path of indices to its module: `model.10.conv_block.1.weight` is
the first convolution of the first residual block of a ResNet generator, `model.model.1.model.2.running_mean`
the encoder norm of the second U-Net level. `_entries(arch)` lists, for a `ReferenceArchitecture`, the tensors of
each such module in order (`_conv`, `_norm`): the key, the shape, and the Keras layer of `tfgan_translate.networks`
and its weight it maps to; keys the reference accepts and drops have no shape and no weight.

Example:

>>> from tfgan_translate.reference.architecture import architecture_from_args
>>> [e.key for e in _entries(architecture_from_args({"netD": "pixel", "ndf": 64, "input_channels": 6,
...                                                   "norm": "batch"})) if e.shape][:4]
['net.0.weight', 'net.0.bias', 'net.2.weight', 'net.3.weight']
>>> _norm("net.3", "conv2_norm", 128, "batch")[3]
_Entry(key='net.3.running_var', shape=(128,), layer='conv2_norm', weight='moving_variance')
"""

from __future__ import annotations

from typing import NamedTuple

# BatchNorm2d's tensors -> Keras BatchNormalization's weights (both eps 1e-5; PyTorch momentum 0.1 is Keras 0.9)
_BATCH_NORM = {"weight": "gamma", "bias": "beta", "running_mean": "moving_mean", "running_var": "moving_variance"}


class _Entry(NamedTuple):
    """One tensor of the reference's state dict and the Keras weight it maps to.

    `shape` None: a key a file may hold, which is dropped (`weight` None); `key` None: a bias the Keras layer may
    have where the reference's module has none, set to zero (norm "none": a zero bias computes the same).
    """

    key: str | None
    shape: tuple[int, ...] | None
    layer: str
    weight: str | None


def _conv(prefix: str, layer: str, shape: tuple[int, ...], bias: bool, transposed: bool = False) -> list[_Entry]:
    """A Conv2d (shape `[out, in, kh, kw]`) or a ConvTranspose2d (`transposed`, `[in, out, kh, kw]`)."""
    bias_key, bias_shape = (f"{prefix}.bias", (shape[transposed],)) if bias else (None, None)
    return [_Entry(f"{prefix}.weight", shape, layer, "kernel"), _Entry(bias_key, bias_shape, layer, "bias")]


def _norm(prefix: str, layer: str, channels: int, norm: str) -> list[_Entry]:
    """A BatchNorm2d, whose `num_batches_tracked` (missing in files from torch < 0.4.1) has no Keras counterpart;
    an InstanceNorm2d(affine=False) holds nothing, but files from torch < 0.4 carry running statistics under it,
    which the reference deletes before loading (so are they here); norm "none" is no module."""
    if norm == "batch":
        return [*(_Entry(f"{prefix}.{name}", (channels,), layer, weight) for name, weight in _BATCH_NORM.items()),
                _Entry(f"{prefix}.num_batches_tracked", None, layer, None)]
    dropped = ("running_mean", "running_var", "num_batches_tracked") if norm == "instance" else ()
    return [_Entry(f"{prefix}.{name}", None, layer, None) for name in dropped]


def unet_prefix(level: int) -> str:
    """The Sequential of U-Net level `level` (1 = outermost): `model.model`, `model.model.1.model`, then
    `.3.model` per level further in (the submodule sits at index 1 of the outermost level, 3 of the others)."""
    return "model.model" if level == 1 else "model.model.1.model" + ".3.model" * (level - 2)


def generator_size(netG: str) -> tuple[str, int]:
    """("unet", depth) or ("resnet", n_blocks) of a reference generator name; resnet_0blocks included."""
    family, _, size = netG.partition("_")
    return family, int(size).bit_length() - 1 if family == "unet" else int(size.removesuffix("blocks"))


def _conv_norm(parent: str, index: int, conv: str, norm_layer: str, shape: tuple[int, ...], norm: str,
               transposed: bool = False) -> list[_Entry]:
    """A convolution at `parent.index` and the norm after it at `parent.index + 1`; the convolution has a bias
    only before an instance norm (the reference's `use_bias`), the norm its output channels."""
    return [*_conv(f"{parent}.{index}", conv, shape, norm == "instance", transposed),
            *_norm(f"{parent}.{index + 1}", norm_layer, shape[transposed], norm)]


def _unet(depth: int, ngf: int, input_channels: int, output_channels: int, norm: str) -> list[_Entry]:
    """UnetGenerator with `depth` levels (unet_<2**depth>): outermost level first, each down then up."""
    bias = norm == "instance"

    def filters(level):
        return ngf * min(2 ** (level - 1), 8)

    p = unet_prefix(1)
    entries = [
        *_conv(f"{p}.0", "down1_conv", (ngf, input_channels, 4, 4), bias),
        *_conv(f"{p}.3", "up1_conv", (2 * ngf, output_channels, 4, 4), True, True),
    ]
    for level in range(2, depth):
        p, inner, outer = unet_prefix(level), filters(level), filters(level - 1)
        entries += [
            *_conv_norm(p, 1, f"down{level}_conv", f"down{level}_norm", (inner, outer, 4, 4), norm),
            *_conv_norm(p, 5, f"up{level}_conv", f"up{level}_norm", (2 * inner, outer, 4, 4), norm, True),
        ]
    p, inner, outer = unet_prefix(depth), filters(depth), filters(depth - 1)
    return entries + [
        *_conv(f"{p}.1", f"down{depth}_conv", (inner, outer, 4, 4), bias),
        *_conv_norm(p, 3, f"up{depth}_conv", f"up{depth}_norm", (inner, outer, 4, 4), norm, True),
    ]


def _filt(key: str, channels: int, up: bool) -> _Entry:
    """A CUT `Downsample` / `Upsample` buffer: checked against the fixed filter, not copied (layer "filt:up|down")."""
    return _Entry(f"{key}.filt", (channels, 1, 4, 4) if up else (channels, 1, 3, 3), "filt:up" if up else "filt:down",
                  None)


def _resnet(n_blocks: int, ngf: int, input_channels: int, output_channels: int, norm: str,
            dropout: bool, blur: bool = False) -> list[_Entry]:
    """ResnetGenerator with `n_blocks` residual blocks: stem, two downsamplings, blocks, two upsamplings, head.

    `blur`: the CUT authors' anti-aliased one, each down stage ending in a `Downsample` and each up stage starting
    with an `Upsample` before a stride-1 Conv2d (not transposed): one more index per stage."""
    step = 4 if blur else 3  # the modules of a resampling stage: conv, norm, ReLU (and the resampling)
    entries = _conv_norm("model", 1, "stem_conv", "stem_norm", (ngf, input_channels, 7, 7), norm)
    for i, cin in ((1, ngf), (2, 2 * ngf)):
        at = 4 + step * (i - 1)
        entries += _conv_norm("model", at, f"down{i}_conv", f"down{i}_norm", (2 * cin, cin, 3, 3), norm)
        entries += [_filt(f"model.{at + 3}", 2 * cin, False)] if blur else []
    dim, second = 4 * ngf, 6 if dropout else 5  # Dropout(0.5) after the first ReLU shifts the second conv
    for b in range(1, n_blocks + 1):
        p = f"model.{3 + 2 * step + b}.conv_block"
        entries += [*_conv_norm(p, 1, f"block{b}_conv1", f"block{b}_1_norm", (dim, dim, 3, 3), norm),
                    *_conv_norm(p, second, f"block{b}_conv2", f"block{b}_2_norm", (dim, dim, 3, 3), norm)]
    up = 4 + 2 * step + n_blocks
    for i, cin in ((1, 4 * ngf), (2, 2 * ngf)):
        at = up + step * (i - 1)
        shape = (cin // 2, cin, 3, 3) if blur else (cin, cin // 2, 3, 3)
        entries += [_filt(f"model.{at}", cin, True)] if blur else []
        entries += _conv_norm("model", at + blur, f"up{i}_conv", f"up{i}_norm", shape, norm, not blur)
    return entries + _conv(f"model.{up + 2 * step + 1}", "head_conv", (output_channels, ngf, 7, 7), True)


def _n_layers(n_layers: int, ndf: int, channels: int, norm: str, blur: bool = False) -> list[_Entry]:
    """NLayerDiscriminator (PatchGAN) with `n_layers` stride-2 convolutions; `n_layers=3` is netD "basic".

    `blur`: the CUT authors' anti-aliased one, with a `Downsample` after each stride-2 stage."""
    step = 4 if blur else 3
    entries = _conv("model.0", "conv1", (ndf, channels, 4, 4), True) + ([_filt("model.2", ndf, False)] if blur else [])
    mult = 1
    for n in range(1, n_layers + 1):  # n_layers - 1 stride-2 convolutions, then a stride-1 one
        prev, mult, at = mult, min(2**n, 8), 2 + blur + step * (n - 1)
        entries += _conv_norm("model", at, f"conv{n + 1}", f"conv{n + 1}_norm", (ndf * mult, ndf * prev, 4, 4), norm)
        entries += [_filt(f"model.{at + 3}", ndf * mult, False)] if blur and n < n_layers else []
    return entries + [*_conv(f"model.{step * n_layers + 2}", "logits", (1, ndf * mult, 4, 4), True)]


def _pixel(ndf: int, channels: int, norm: str) -> list[_Entry]:
    """PixelDiscriminator (1x1 PixelGAN)."""
    return [
        *_conv("net.0", "conv1", (ndf, channels, 1, 1), True),
        *_conv_norm("net", 2, "conv2", "conv2_norm", (2 * ndf, ndf, 1, 1), norm),
        *_conv("net.5", "logits", (1, 2 * ndf, 1, 1), norm == "instance"),
    ]


def _entries(arch) -> list[_Entry]:
    """The tensors of `arch` (a `ReferenceArchitecture`), in the order of the reference's modules."""
    if arch.kind == "discriminator" and arch.net == "pixel":
        return _pixel(arch.filters, arch.input_channels, arch.norm)
    if arch.kind == "discriminator":
        return _n_layers(arch.n_layers_D, arch.filters, arch.input_channels, arch.norm)
    family, size = generator_size(arch.net)
    if family == "unet":
        return _unet(size, arch.filters, arch.input_channels, arch.output_channels, arch.norm)
    return _resnet(size, arch.filters, arch.input_channels, arch.output_channels, arch.norm, bool(arch.dropout))
