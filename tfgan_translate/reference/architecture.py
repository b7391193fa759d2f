"""What a reference network is: `ReferenceArchitecture`, read from a state dict or from the reference's arguments.

`infer_architecture` reads it from a state dict's keys and shapes, `architecture_from_args` from the reference's
arguments (netG, ... or netD, ...; `mapping.network_args` reads them off a network of this package).
`check_state_dict` checks a state dict against the arguments, tensor by tensor (the layout of `layouts`), and
its error lists what is missing, unexpected or mis-shaped, then says in words how the file differs
(`_differences`).

What the file's keys tell (`infer_architecture`): the family (U-Net, ResNet, PatchGAN,
PixelGAN), U-Net depth and ResNet block count, PatchGAN depth, ngf / ndf, input and output
channels, and the norm: batch norm leaves its tensors, instance norm leaves none but gives
the convolutions before it biases, "none" leaves neither (in the reference only instance
norm turns those biases on). Whether a ResNet has dropout shows too (the dropout layer
shifts the block's second convolution from index 5 to 6). What it cannot tell: dropout in
a U-Net (the dropout layer comes last in its level and shifts no index), the split of a
discriminator's input into condition and image channels (only their sum), and the image
size the network was trained at.

Example:

>>> arch = ReferenceArchitecture("generator", "unet_256", 64, 3, 3, "batch")
>>> arch.describe()
'unet_256 generator, ngf 64, 3 -> 3 channels, batch norm'
>>> arch.kwargs()
{'netG': 'unet_256', 'norm': 'batch', 'ngf': 64, 'input_channels': 3, 'output_channels': 3}

Reference: junyanz/pytorch-CycleGAN-and-pix2pix, models/networks.py.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np

from tfgan_translate.reference.errors import CheckpointError
from tfgan_translate.reference.layouts import _entries, _Entry, generator_size, unet_prefix

_LIST_LIMIT = 12  # keys listed per kind of problem in an error; the rest are counted


@dataclasses.dataclass(frozen=True)
class ReferenceArchitecture:
    """The architecture a reference state dict implies, read from its keys and shapes.

    Attributes:
        kind: str. "generator" or "discriminator".
        net: str. The reference's name: "unet_<2**depth>", "resnet_<n>blocks", "basic"
            (a 3-layer PatchGAN; "n_layers" with `n_layers_D=3` gives the same file),
            "n_layers" or "pixel".
        filters: int. ngf (generators) or ndf (discriminators).
        input_channels: int. Channels into the first convolution; for a discriminator the
            condition and the image together (the file does not tell the split).
        output_channels: int or None. Channels out of a generator; None for discriminators.
        norm: str. "batch", "instance" or "none".
        dropout: bool or None. Dropout in a ResNet's residual blocks; None where the file
            cannot tell (U-Nets, ResNets with 0 blocks, discriminators).
        n_layers_D: int or None. Stride-2 convolutions of a PatchGAN ("n_layers").
        old_instance_stats: bool. Whether instance norms carry the running statistics of
            files from torch < 0.4 (dropped on import, as the reference does).
    """

    kind: str
    net: str
    filters: int
    input_channels: int
    output_channels: int | None
    norm: str
    dropout: bool | None = None
    n_layers_D: int | None = None
    old_instance_stats: bool = False

    def kwargs(self) -> dict:
        """The reference's arguments (netG, ... / netD, ...) that fit this file.

        A U-Net's dropout cannot be read from a file and is left out (the loaders then use
        the reference's default, on); a discriminator's channels all go to `input_channels`
        (`condition_channels=0`), which computes the same function as any split.
        """
        if self.kind == "generator":
            dropout = {} if self.dropout is None else {"dropout": 0.5 if self.dropout else 0.0}
            return {"netG": self.net, "norm": self.norm, "ngf": self.filters, "input_channels": self.input_channels,
                    "output_channels": self.output_channels, **dropout}
        return {"netD": self.net, "n_layers_D": self.n_layers_D or 3, "norm": self.norm, "ndf": self.filters,
                "input_channels": self.input_channels, "condition_channels": 0}

    def describe(self) -> str:
        """One line, e.g. "resnet_9blocks generator, ngf 64, 3 -> 3 channels, instance norm, no dropout"."""
        old = " (with the old instance-norm running statistics)" if self.old_instance_stats else ""
        norm = "no norm" if self.norm == "none" else f"{self.norm} norm"
        if self.kind == "generator":
            drop = {True: ", dropout", False: ", no dropout", None: ""}[self.dropout]
            return (f"{self.net} generator, ngf {self.filters}, {self.input_channels} -> {self.output_channels} "
                    f"channels, {norm}{old}{drop}")
        net = {"basic": "basic (70x70 PatchGAN, n_layers_D 3)", "pixel": "pixel (1x1 PixelGAN)"}.get(
            self.net, f"n_layers PatchGAN, n_layers_D {self.n_layers_D}")
        return f"{net} discriminator, ndf {self.filters}, {self.input_channels} input channels, {norm}{old}"


def _shape(value) -> tuple[int, ...]:
    return tuple(int(s) for s in np.shape(value))


def _indices(keys, pattern: str) -> list[int]:
    regex = re.compile(pattern)
    return sorted({int(m[1]) for m in map(regex.match, keys) if m})


def _infer(state_dict: dict) -> ReferenceArchitecture | None:
    """`infer_architecture`, or None for keys that match no reference network."""
    shapes = {k: _shape(v) for k, v in state_dict.items()}
    convs = {k: shape for k, shape in shapes.items() if len(shape) == 4}
    # Batch norms leave 1-D scales; old instance norms leave running statistics without scales.
    has_batch = any(k.endswith(".weight") and len(shape) == 1 for k, shape in shapes.items())
    old_stats = not has_batch and any(k.endswith((".running_mean", ".running_var")) for k in shapes)

    def found(kind, net, first, output_channels, conv_before_norm, dropout=None, n_layers=None):
        norm = "batch" if has_batch else "instance" if f"{conv_before_norm}.bias" in shapes else "none"
        return ReferenceArchitecture(kind, net, first[0], first[1], output_channels, norm, dropout, n_layers, old_stats)

    if any(k.startswith("model.model.") for k in shapes):
        down, up = convs.get("model.model.0.weight"), convs.get("model.model.3.weight")
        if down is None:
            return None
        depth = max(level for level in range(1, 64) if any(k.startswith(unet_prefix(level) + ".") for k in shapes))
        return found("generator", f"unet_{2 ** depth}", down, up[1] if up else None, "model.model.0")
    if any(k.startswith("net.") for k in shapes):
        first = convs.get("net.0.weight")
        return None if first is None else found("discriminator", "pixel", first, None, "net.2")
    first, layers = convs.get("model.1.weight"), _indices(convs, r"model\.(\d+)\.weight$")
    if first is not None and first[2:] == (7, 7):
        n_blocks = len(_indices(shapes, r"model\.(\d+)\.conv_block\."))
        dropout = any(re.match(r"model\.\d+\.conv_block\.6\.weight$", k) for k in convs) if n_blocks else None
        head = convs[f"model.{layers[-1]}.weight"]
        return found("generator", f"resnet_{n_blocks}blocks", first, head[0], "model.1", dropout)
    first = convs.get("model.0.weight")
    if first is not None and first[2:] == (4, 4):
        n_layers = max(len(layers) - 2, 1)
        return found("discriminator", "basic" if n_layers == 3 else "n_layers", first, None, "model.2", None, n_layers)
    return None


def infer_architecture(state_dict: dict) -> ReferenceArchitecture:
    """Reads the architecture of a reference network from its state dict's keys and shapes.

    Args:
        state_dict: dict. Key -> array (numpy arrays, or anything `np.shape` reads), as
            `read_state_dict` returns or `torch.nn.Module.state_dict()` gives.

    Returns:
        A `ReferenceArchitecture`. Its `kwargs()` are the reference's arguments that fit the
        file. It tells the family and size (U-Net depth, ResNet blocks,
        PatchGAN layers), ngf / ndf, the channels, the norm and a ResNet's dropout; it
        cannot tell a U-Net's dropout (`dropout=None`), a discriminator's condition /
        image split, or the training image size.

    Raises:
        CheckpointError: if the keys match none of the reference's networks.

    Example:

    >>> path = "checkpoints/horse2zebra_pretrained/latest_net_G.pth"
    >>> arch = infer_architecture(read_state_dict(path))  # doctest: +SKIP
    >>> arch.describe()  # doctest: +SKIP
    'resnet_9blocks generator, ngf 64, 3 -> 3 channels, instance norm, no dropout'
    >>> g = ResNetGenerator.from_preset(path)  # doctest: +SKIP

    Reference: the module trees of ResnetGenerator, UnetGenerator, NLayerDiscriminator and
    PixelDiscriminator in junyanz/pytorch-CycleGAN-and-pix2pix, models/networks.py.
    """
    arch = _infer(state_dict)
    if arch is None:
        raise CheckpointError(f"The state dict matches none of the reference's networks (ResnetGenerator, "
                              f"UnetGenerator, NLayerDiscriminator, PixelDiscriminator). Its first keys: "
                              f"{_first_keys(state_dict)}.")
    return arch


def architecture_from_args(args: dict) -> ReferenceArchitecture:
    """The reference architecture that loader arguments describe, without building the network.

    Args:
        args: dict. A generator's arguments (netG, norm, ngf, input_channels, output_channels, dropout) or
            a discriminator's (netD, n_layers_D, norm, ndf, input_channels, condition_channels).
    """
    if "netG" in args:
        dropout = bool(args.get("dropout")) if str(args["netG"]).startswith("resnet_") else None
        return ReferenceArchitecture("generator", args["netG"], args["ngf"], args["input_channels"],
                                     args["output_channels"], args["norm"], dropout)
    n_layers = None if args["netD"] == "pixel" else 3 if args["netD"] == "basic" else args["n_layers_D"]
    net = "pixel" if n_layers is None else "basic" if n_layers == 3 else "n_layers"
    return ReferenceArchitecture("discriminator", net, args["ndf"], args["input_channels"] +
                                 args.get("condition_channels", 0), None, args["norm"], None, n_layers)


def _first_keys(state_dict: dict, n: int = 6) -> str:
    keys = list(state_dict)
    return ", ".join(keys[:n]) + (f", ... ({len(keys)} keys)" if len(keys) > n else "") if keys else "(none)"


# === Checking a state dict against the arguments ===


def _listing(title: str, lines: list[str]) -> str:
    shown = lines[:_LIST_LIMIT]
    more = f"\n    ... and {len(lines) - len(shown)} more" if len(lines) > len(shown) else ""
    return f"  {title} ({len(lines)}):\n" + "\n".join(f"    {line}" for line in shown) + more


def check_state_dict(state_dict: dict, args: dict, source: str = "the state dict") -> list[_Entry]:
    """Checks a state dict's keys and shapes against loader arguments, before any network is built.

    Args:
        state_dict: dict. Key -> array, as `read_state_dict` returns.
        args: dict. A network's arguments in the reference's terms (see `architecture_from_args`).
        source: str. What to call the state dict in errors. Defaults to `"the state dict"`.

    Returns:
        The tensors the arguments imply (`layouts._entries`), in the order of the reference's modules.

    Raises:
        CheckpointError: a key missing, unexpected or mis-shaped (listed, with what the arguments and the
            file imply), e.g. an options file's `ngf: 1000` beside a file of ngf 64.
    """
    asked = architecture_from_args(args)
    entries = _entries(asked)
    required = {e.key: e.shape for e in entries if e.shape is not None}
    optional = {e.key for e in entries if e.weight is None}
    missing = [f"{k} {list(shape)}" for k, shape in required.items() if k not in state_dict]
    unexpected = [f"{k} {list(_shape(v))}" for k, v in state_dict.items() if k not in required and k not in optional]
    misshaped = []
    for key in [k for k in required if k in state_dict]:  # in the layout's order
        shape, value = required[key], state_dict[key]
        if _shape(value) != shape:
            misshaped.append(f"{key}: {list(_shape(value))} in the file, {list(shape)} expected")
        elif not np.issubdtype(np.asarray(value).dtype, np.floating):
            misshaped.append(f"{key}: dtype {np.asarray(value).dtype} in the file, a float tensor expected")
    if not (missing or unexpected or misshaped):
        return entries
    given = ", ".join(f"{k}={v!r}" for k, v in args.items())
    parts = [f"Cannot load {source} as {given}: its tensors do not match that network."]
    parts += [_listing(title, lines) for title, lines in (("missing", missing), ("unexpected", unexpected),
                                                          ("mis-shaped", misshaped)) if lines]
    found = _infer(state_dict)
    if found is None:
        parts.append(f"The file matches none of the reference's networks; its first keys: {_first_keys(state_dict)}.")
    else:
        parts += [f"The arguments imply: {asked.describe()}.", f"The file implies: {found.describe()}."]
        parts += [f"  - {hint}" for hint in _differences(asked, found, args)]
        parts.append(f"Arguments that fit the file: {found.kwargs()}.")
    raise CheckpointError("\n".join(parts))


# === How a file differs from the arguments ===

_FAMILIES = {"unet": "U-Net", "resnet": "ResNet"}
_NORM_FOUND = {
    "batch": "this file has batch-norm tensors (weight, bias, running statistics)",
    "instance": "this file has no norm tensors and its convolutions before each norm have biases (instance norm)",
    "none": "this file has no norm tensors and no biases on the convolutions before each norm (norm none)",
}
_NORM_ASKED = {"batch": "batch-norm tensors and no such biases", "instance": "no norm tensors and biases",
               "none": "neither"}


def _differences(asked: ReferenceArchitecture, found: ReferenceArchitecture, args: dict) -> list[str]:
    """Sentences that name each way the file differs from what the arguments ask for."""
    if asked.kind != found.kind:
        loader = "PatchGANDiscriminator" if found.kind == "discriminator" else \
            "UNetGenerator" if found.net.startswith("unet") else "ResNetGenerator"
        return [f"this file holds a {found.kind} ({found.net}); load it with `{loader}.from_preset`"]
    hints = []
    if asked.kind == "generator":
        (family, size), (found_family, found_size) = generator_size(asked.net), generator_size(found.net)
        netG = args["netG"]
        if family != found_family:
            hints.append(f"this file holds a {_FAMILIES[found_family]} generator ({found.net}); netG={netG!r} "
                         f"expects a {_FAMILIES[family]}")
        elif size != found_size:
            what = "residual blocks" if family == "resnet" else f"U-Net levels ({found.net})"
            hints.append(f"this file has {found_size} {what}; netG={netG!r} expects {size}")
        if family == found_family == "resnet" and found.dropout is not None and asked.dropout != found.dropout:
            hints.append("this file has dropout in its residual blocks (their second convolution is conv_block.6); "
                         f"dropout={args['dropout']!r} expects none" if found.dropout else
                         "this file has no dropout in its residual blocks (their second convolution is "
                         f"conv_block.5); dropout={args['dropout']!r} expects one (conv_block.6)")
    elif (asked.net == "pixel") != (found.net == "pixel"):
        gan = {True: "PixelGAN", False: "PatchGAN"}
        hints.append(f"this file holds a {gan[found.net == 'pixel']} (netD={found.net!r}); netD={args['netD']!r} "
                     f"expects a {gan[asked.net == 'pixel']}")
    elif asked.n_layers_D != found.n_layers_D:
        netD = args["netD"]
        what = f"netD={netD!r}" if netD == "basic" else f"netD={netD!r}, n_layers_D={args['n_layers_D']!r},"
        hints.append(f"this file has {found.n_layers_D} stride-2 convolutions (n_layers_D={found.n_layers_D}); "
                     f"{what} expects {asked.n_layers_D}")
    if asked.norm != found.norm:
        hints.append(f"{_NORM_FOUND[found.norm]}; norm={args['norm']!r} expects {_NORM_ASKED[asked.norm]}")
    width = "ngf" if asked.kind == "generator" else "ndf"
    if asked.filters != found.filters:
        hints.append(f"{width} {found.filters} in the file, {width}={args[width]!r} given")
    if asked.input_channels != found.input_channels:
        hints.append(f"the file's first convolution takes {found.input_channels} channels; "
                     f"input_channels={args['input_channels']!r} given" if asked.kind == "generator" else
                     f"the file's first convolution takes {found.input_channels} channels (condition + image); "
                     f"input_channels={args['input_channels']!r} + condition_channels="
                     f"{args['condition_channels']!r} = {asked.input_channels} given")
    if found.output_channels is not None and asked.output_channels != found.output_channels:
        hints.append(f"the file's last convolution gives {found.output_channels} channels; "
                     f"output_channels={args['output_channels']!r} given")
    return hints
