"""The reference's state-dict layout per architecture: every module that holds tensors, as a `_Slot`.

The reference (junyanz/pytorch-CycleGAN-and-pix2pix, models/networks.py) keeps its layers in
`nn.Sequential`s, so a tensor's key is the path of indices to its module: `model.10.conv_block.1.weight` is
the first convolution of the first residual block of a ResNet generator, `model.model.1.model.2.running_mean`
the encoder norm of the second U-Net level. `_slots(arch)` lists, for a `ReferenceArchitecture`, each such
module in order: its key prefix, its kind, its tensor shape and the name of the Keras layer of
`tfgan_translate.networks` it maps to; `_Slot.required` / `_Slot.optional` give the keys it has in a file.

Example:

>>> [slot.layer for slot in _pixel_slots(ndf=64, channels=6, norm="batch")]
['conv1', 'conv2', 'conv2_norm', 'logits']
>>> _Slot("net.3", "norm", "conv2_norm", (128,), norm="batch").required()["net.3.running_var"]
(128,)
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class _Slot:
    """One module of the reference that holds tensors, and the Keras layer it maps to.

    kind: "conv" (Conv2d, shape `[out, in, kh, kw]`), "conv_transpose" (ConvTranspose2d,
    shape `[in, out, kh, kw]`) or "norm" (shape `(channels,)`).
    """

    prefix: str
    kind: str
    layer: str
    shape: tuple[int, ...]
    bias: bool = False
    norm: str = "none"

    def required(self) -> dict[str, tuple[int, ...]]:
        """The keys this module must have in the file, with their shapes."""
        if self.kind == "norm":
            if self.norm != "batch":
                return {}
            return {f"{self.prefix}.{name}": self.shape for name in ("weight", "bias", "running_mean", "running_var")}
        keys = {f"{self.prefix}.weight": self.shape}
        if self.bias:
            keys[f"{self.prefix}.bias"] = (self.shape[0] if self.kind == "conv" else self.shape[1],)
        return keys

    def optional(self) -> tuple[str, ...]:
        """Keys this module may have, which the reference accepts and drops."""
        if self.kind != "norm":
            return ()
        if self.norm == "batch":  # missing in files from torch < 0.4.1; the reference fills it in
            return (f"{self.prefix}.num_batches_tracked",)
        if self.norm == "instance":  # files from torch < 0.4: deleted before loading
            return tuple(f"{self.prefix}.{name}" for name in ("running_mean", "running_var", "num_batches_tracked"))
        return ()


def unet_prefix(level: int) -> str:
    """The Sequential of U-Net level `level` (1 = outermost): `model.model`, `model.model.1.model`, then
    `.3.model` per level further in (the submodule sits at index 1 of the outermost level, 3 of the others)."""
    return "model.model" if level == 1 else "model.model.1.model" + ".3.model" * (level - 2)


def _unet_slots(depth: int, ngf: int, input_channels: int, output_channels: int, norm: str) -> list[_Slot]:
    """UnetGenerator with `depth` levels (unet_<2**depth>): outermost level first, each down then up."""
    bias = norm == "instance"

    def filters(level):
        return ngf * min(2 ** (level - 1), 8)

    p = unet_prefix(1)
    slots = [
        _Slot(f"{p}.0", "conv", "down1_conv", (ngf, input_channels, 4, 4), bias),
        _Slot(f"{p}.3", "conv_transpose", "up1_conv", (2 * ngf, output_channels, 4, 4), True),
    ]
    for level in range(2, depth):
        p, inner, outer = unet_prefix(level), filters(level), filters(level - 1)
        slots += [
            _Slot(f"{p}.1", "conv", f"down{level}_conv", (inner, outer, 4, 4), bias),
            _Slot(f"{p}.2", "norm", f"down{level}_norm", (inner,), norm=norm),
            _Slot(f"{p}.5", "conv_transpose", f"up{level}_conv", (2 * inner, outer, 4, 4), bias),
            _Slot(f"{p}.6", "norm", f"up{level}_norm", (outer,), norm=norm),
        ]
    p, inner, outer = unet_prefix(depth), filters(depth), filters(depth - 1)
    slots += [
        _Slot(f"{p}.1", "conv", f"down{depth}_conv", (inner, outer, 4, 4), bias),
        _Slot(f"{p}.3", "conv_transpose", f"up{depth}_conv", (inner, outer, 4, 4), bias),
        _Slot(f"{p}.4", "norm", f"up{depth}_norm", (outer,), norm=norm),
    ]
    return slots


def _resnet_slots(n_blocks: int, ngf: int, input_channels: int, output_channels: int, norm: str,
                  dropout: bool) -> list[_Slot]:
    """ResnetGenerator with `n_blocks` residual blocks: stem, two downsamplings, blocks, two upsamplings, head."""
    bias = norm == "instance"
    slots = [
        _Slot("model.1", "conv", "stem_conv", (ngf, input_channels, 7, 7), bias),
        _Slot("model.2", "norm", "stem_norm", (ngf,), norm=norm),
        _Slot("model.4", "conv", "down1_conv", (2 * ngf, ngf, 3, 3), bias),
        _Slot("model.5", "norm", "down1_norm", (2 * ngf,), norm=norm),
        _Slot("model.7", "conv", "down2_conv", (4 * ngf, 2 * ngf, 3, 3), bias),
        _Slot("model.8", "norm", "down2_norm", (4 * ngf,), norm=norm),
    ]
    dim, second = 4 * ngf, 6 if dropout else 5  # Dropout(0.5) after the first ReLU shifts the second conv
    for b in range(n_blocks):
        p = f"model.{10 + b}.conv_block"
        slots += [
            _Slot(f"{p}.1", "conv", f"block{b + 1}_conv1", (dim, dim, 3, 3), bias),
            _Slot(f"{p}.2", "norm", f"block{b + 1}_1_norm", (dim,), norm=norm),
            _Slot(f"{p}.{second}", "conv", f"block{b + 1}_conv2", (dim, dim, 3, 3), bias),
            _Slot(f"{p}.{second + 1}", "norm", f"block{b + 1}_2_norm", (dim,), norm=norm),
        ]
    up = 10 + n_blocks
    slots += [
        _Slot(f"model.{up}", "conv_transpose", "up1_conv", (4 * ngf, 2 * ngf, 3, 3), bias),
        _Slot(f"model.{up + 1}", "norm", "up1_norm", (2 * ngf,), norm=norm),
        _Slot(f"model.{up + 3}", "conv_transpose", "up2_conv", (2 * ngf, ngf, 3, 3), bias),
        _Slot(f"model.{up + 4}", "norm", "up2_norm", (ngf,), norm=norm),
        _Slot(f"model.{up + 7}", "conv", "head_conv", (output_channels, ngf, 7, 7), True),
    ]
    return slots


def _n_layers_slots(n_layers: int, ndf: int, channels: int, norm: str) -> list[_Slot]:
    """NLayerDiscriminator (PatchGAN) with `n_layers` stride-2 convolutions; `n_layers=3` is netD "basic"."""
    bias = norm == "instance"
    slots = [_Slot("model.0", "conv", "conv1", (ndf, channels, 4, 4), True)]
    mult = 1
    for n in range(1, n_layers + 1):  # n_layers - 1 stride-2 convolutions, then a stride-1 one
        prev, mult = mult, min(2**n, 8)
        slots += [
            _Slot(f"model.{3 * n - 1}", "conv", f"conv{n + 1}", (ndf * mult, ndf * prev, 4, 4), bias),
            _Slot(f"model.{3 * n}", "norm", f"conv{n + 1}_norm", (ndf * mult,), norm=norm),
        ]
    slots.append(_Slot(f"model.{3 * n_layers + 2}", "conv", "logits", (1, ndf * mult, 4, 4), True))
    return slots


def _pixel_slots(ndf: int, channels: int, norm: str) -> list[_Slot]:
    """PixelDiscriminator (1x1 PixelGAN)."""
    bias = norm == "instance"
    return [
        _Slot("net.0", "conv", "conv1", (ndf, channels, 1, 1), True),
        _Slot("net.2", "conv", "conv2", (2 * ndf, ndf, 1, 1), bias),
        _Slot("net.3", "norm", "conv2_norm", (2 * ndf,), norm=norm),
        _Slot("net.5", "conv", "logits", (1, 2 * ndf, 1, 1), bias),
    ]


def _slots(arch) -> list[_Slot]:
    """The slots of `arch` (a `ReferenceArchitecture`), in the order of the reference's modules."""
    family, _, size = arch.net.partition("_")
    if family == "unet":
        return _unet_slots(int(size).bit_length() - 1, arch.filters, arch.input_channels, arch.output_channels,
                           arch.norm)
    if family == "resnet":
        return _resnet_slots(int(size[: -len("blocks")]), arch.filters, arch.input_channels, arch.output_channels,
                             arch.norm, bool(arch.dropout))
    if arch.net == "pixel":
        return _pixel_slots(arch.filters, arch.input_channels, arch.norm)
    return _n_layers_slots(arch.n_layers_D, arch.filters, arch.input_channels, arch.norm)
