"""The reference's 23 pretrained generators, as one table of data (keras-hub presets style).

The PyTorch reference (junyanz/pytorch-CycleGAN-and-pix2pix) publishes 18 CycleGAN and 5 pix2pix
generators, each a single `state_dict` file. Its two download scripts build the addresses from the
name they are given:

- `scripts/download_cyclegan_model.sh NAME` fetches
  `http://efrosgans.eecs.berkeley.edu/cyclegan/pretrained_models/NAME.pth`;
- `scripts/download_pix2pix_model.sh NAME` fetches
  `http://efrosgans.eecs.berkeley.edu/pix2pix/models-pytorch/NAME.pth`;

and both save it as `./checkpoints/NAME_pretrained/latest_net_G.pth`.

Naming rule. Three names (`sat2map`, `map2sat`, `facades_label2photo`) exist in both families, and the
reference tells them apart only by which script is run (so both land in the same
`checkpoints/NAME_pretrained` folder there). Here every name is unique:

- the 18 CycleGAN generators keep the reference's bare names (`horse2zebra`, `sat2map`, ...): they are
  the names the reference's README, its model zoo and most users know;
- the 5 pix2pix generators are `pix2pix_` + the reference's name (`pix2pix_edges2shoes`,
  `pix2pix_sat2map`, ...), all five, so that the prefix alone tells the family;
- `family/name` is accepted as a second spelling of any entry, mirroring the reference's
  script + argument: `"cyclegan/sat2map"` is `sat2map`, `"pix2pix/sat2map"` is `pix2pix_sat2map`.

Architecture. The CycleGAN generators are the reference's CycleGAN defaults (resnet_9blocks, instance
norm without affine parameters, no dropout, ngf 64: its README tests them with `--model test
--no_dropout` and no other network flag); the pix2pix ones are its pix2pix defaults (unet_256, batch
norm, dropout 0.5, ngf 64: tested with `--model pix2pix` and no network flag). All are RGB -> RGB.

Direction. `direction` is how the reference's dataset for the model names the translation: "AtoB"
when the generator maps the dataset's domain A to B (its `trainA`/`testA`, or the left half of an
aligned pair), "BtoA" otherwise. horse2zebra-style datasets hold the first-named domain in A
(the reference's README runs `horse2zebra_pretrained` on `horse2zebra/testA`); pix2pix facades and
cityscapes hold the photo in A (its README: "Facades dataset's A to B direction is photos to labels");
night2day holds night in A (its docs/datasets.md: a day2night model needs `--direction BtoA`). For the
CycleGAN `maps`, `cityscapes` and `facades` sets (A aerial photo / street photo / facade photo, B map /
label) the layout is inferred from their pix2pix counterparts and from how users run these models; the
reference does not state it.

Verification. The reference publishes no checksums and serves the files over plain HTTP, and no file
could be downloaded while this table was written, so `expected_size` and `sha256` are None for every
entry: a download is then checked only for being complete (its Content-Length) and for starting like a
PyTorch file. Fill both in (or pass them to `download`) to pin a file. For scale: a resnet_9blocks
generator holds 11.378 M float32 parameters (~45.5 MB), a unet_256 one 54.4 M (~217.7 MB).

Example:

>>> from tfgan_translate.reference.pretrained import pretrained_names, pretrained_spec
>>> len(pretrained_names()), pretrained_names("pix2pix")[:2]
(23, ['pix2pix_edges2shoes', 'pix2pix_sat2map'])
>>> spec = pretrained_spec("pix2pix/sat2map")
>>> spec.name, spec.netG, spec.norm, spec.direction
('pix2pix_sat2map', 'unet_256', 'batch', 'AtoB')
>>> spec.url
'http://efrosgans.eecs.berkeley.edu/pix2pix/models-pytorch/sat2map.pth'
"""

from __future__ import annotations

import dataclasses
import difflib
from typing import Literal

Family = Literal["cyclegan", "pix2pix"]

# How each family's download script builds its address (the name is appended, then ".pth").
URL_PREFIXES: dict[str, str] = {
    "cyclegan": "http://efrosgans.eecs.berkeley.edu/cyclegan/pretrained_models/",
    "pix2pix": "http://efrosgans.eecs.berkeley.edu/pix2pix/models-pytorch/",
}

# Each family's generator, as the reference builds it for these files (its defaults for the model).
FAMILY_ARCHITECTURES: dict[str, dict] = {
    "cyclegan": {"netG": "resnet_9blocks", "norm": "instance", "dropout": 0.0, "ngf": 64},
    "pix2pix": {"netG": "unet_256", "norm": "batch", "dropout": 0.5, "ngf": 64},
}

# Prefix of this package's name for a family's entries (see the naming rule above).
NAME_PREFIXES: dict[str, str] = {"cyclegan": "", "pix2pix": "pix2pix_"}

# The table: family -> [(the reference's name, its dataset, direction, what the generator does)].
# Order and names as in the reference's download scripts (their "available models" line).
PRETRAINED_TABLE: dict[str, list[tuple[str, str, str, str]]] = {
    "cyclegan": [
        ("apple2orange", "apple2orange", "AtoB", "apple -> orange"),
        ("orange2apple", "apple2orange", "BtoA", "orange -> apple"),
        ("summer2winter_yosemite", "summer2winter_yosemite", "AtoB", "Yosemite in summer -> in winter"),
        ("winter2summer_yosemite", "summer2winter_yosemite", "BtoA", "Yosemite in winter -> in summer"),
        ("horse2zebra", "horse2zebra", "AtoB", "horse -> zebra"),
        ("zebra2horse", "horse2zebra", "BtoA", "zebra -> horse"),
        ("monet2photo", "monet2photo", "AtoB", "Monet painting -> landscape photo"),
        ("style_monet", "monet2photo", "BtoA", "landscape photo -> Monet painting style"),
        ("style_cezanne", "cezanne2photo", "BtoA", "landscape photo -> Cezanne painting style"),
        ("style_ukiyoe", "ukiyoe2photo", "BtoA", "landscape photo -> Ukiyo-e painting style"),
        ("style_vangogh", "vangogh2photo", "BtoA", "landscape photo -> Van Gogh painting style"),
        ("sat2map", "maps", "AtoB", "aerial photo -> map"),
        ("map2sat", "maps", "BtoA", "map -> aerial photo"),
        ("cityscapes_photo2label", "cityscapes", "AtoB", "street scene -> label map"),
        ("cityscapes_label2photo", "cityscapes", "BtoA", "label map -> street scene"),
        ("facades_photo2label", "facades", "AtoB", "facade photo -> label map"),
        ("facades_label2photo", "facades", "BtoA", "label map -> facade photo"),
        ("iphone2dslr_flower", "iphone2dslr_flower", "AtoB", "iPhone flower photo -> DSLR (shallow depth of field)"),
    ],
    "pix2pix": [
        ("edges2shoes", "edges2shoes", "AtoB", "edge map -> shoe photo"),
        ("sat2map", "maps", "AtoB", "aerial photo -> map"),
        ("map2sat", "maps", "BtoA", "map -> aerial photo"),
        ("facades_label2photo", "facades", "BtoA", "label map -> facade photo"),
        ("day2night", "night2day", "BtoA", "daytime scene -> night"),
    ],
}

# Known file sizes in bytes and SHA-256 digests, by this package's name; none are known yet (see above).
EXPECTED_SIZES: dict[str, int] = {}
SHA256_DIGESTS: dict[str, str] = {}


@dataclasses.dataclass(frozen=True)
class PretrainedSpec:
    """One pretrained generator of the reference: what it is, how it is built, where it is.

    Args:
        name: str. This package's name for it (unique; see the module docstring's naming rule).
        family: "cyclegan" or "pix2pix", the reference model that trained it; also the `model` of the
            matching config class (`tfgan_translate.config.CONFIG_CLASSES`).
        reference_name: str. The name the reference's download script takes (`sat2map` for both
            `sat2map` and `pix2pix_sat2map`).
        dataset: str. The reference's dataset it was trained on (`maps`, `night2day`, ...).
        direction: "AtoB", "BtoA" or None. Which way the generator translates that dataset.
        description: str. What it does, e.g. "horse -> zebra".
        netG: str. Generator architecture (`resnet_9blocks`, `unet_256`).
        norm: str. "instance" (no affine parameters) or "batch".
        dropout: float. Generator dropout rate (0.5 in the U-Net's innermost decoder blocks, or 0).
        ngf: int. Filters of the generator's first layer.
        input_channels: int. Channels of the input image.
        output_channels: int. Channels of the output image.
        url: str. Address of the `.pth` file, exactly as the reference's download script builds it.
        expected_size: int or None. File size in bytes, when known.
        sha256: str or None. SHA-256 of the file (lowercase hex), when known.

    Example:

    >>> spec = pretrained_spec("horse2zebra")
    >>> spec.config_fields()
    {'netG': 'resnet_9blocks', 'norm': 'instance', 'dropout': 0.0, 'ngf': 64, 'input_channels': 3, \
'output_channels': 3, 'direction': 'AtoB'}
    """

    name: str
    family: Family
    reference_name: str
    dataset: str
    direction: str | None
    description: str
    netG: str
    norm: str
    dropout: float
    ngf: int
    input_channels: int
    output_channels: int
    url: str
    expected_size: int | None = None
    sha256: str | None = None

    @property
    def reference_folder(self) -> str:
        """The folder the reference's script saves it in, under `checkpoints/`: `NAME_pretrained`."""
        return f"{self.reference_name}_pretrained"

    def config_fields(self) -> dict:
        """The generator's settings as fields of this package's config (`Pix2PixConfig`/`CycleGANConfig`).

        Returns:
            A dict with netG, norm, dropout, ngf, input_channels, output_channels and, when known, direction.
        """
        fields = {
            "netG": self.netG, "norm": self.norm, "dropout": self.dropout, "ngf": self.ngf,
            "input_channels": self.input_channels, "output_channels": self.output_channels,
        }
        if self.direction is not None:
            fields["direction"] = self.direction
        return fields


def _build_specs() -> dict[str, PretrainedSpec]:
    specs: dict[str, PretrainedSpec] = {}
    for family, rows in PRETRAINED_TABLE.items():
        for reference_name, dataset, direction, description in rows:
            name = NAME_PREFIXES[family] + reference_name
            if name in specs:
                raise RuntimeError(f"Duplicate pretrained name {name!r} in PRETRAINED_TABLE.")
            specs[name] = PretrainedSpec(
                name=name, family=family, reference_name=reference_name, dataset=dataset, direction=direction,
                description=description, **FAMILY_ARCHITECTURES[family], input_channels=3, output_channels=3,
                url=f"{URL_PREFIXES[family]}{reference_name}.pth",
                expected_size=EXPECTED_SIZES.get(name), sha256=SHA256_DIGESTS.get(name),
            )
    return specs


PRETRAINED: dict[str, PretrainedSpec] = _build_specs()


def pretrained_names(family: str | None = None) -> list[str]:
    """The names of the reference's pretrained generators, in the order of its download scripts.

    Args:
        family: str or None. "cyclegan" or "pix2pix" to list one family; None lists all 23.
            Defaults to None.

    Returns:
        A list of names accepted by `pretrained_spec` (and `cached_pretrained`).

    Raises:
        ValueError: if `family` is not None, "cyclegan" or "pix2pix".

    Example:

    >>> pretrained_names("pix2pix")
    ['pix2pix_edges2shoes', 'pix2pix_sat2map', 'pix2pix_map2sat', 'pix2pix_facades_label2photo', \
'pix2pix_day2night']
    """
    if family is not None and family not in PRETRAINED_TABLE:
        raise ValueError(
            f"Invalid value for argument `family`. Received: family={family!r}. "
            f"Expected None or one of {sorted(PRETRAINED_TABLE)}."
        )
    return [name for name, spec in PRETRAINED.items() if family is None or spec.family == family]


def _canonical(name: str) -> str | None:
    """This package's name for `name` (or its `family/name` spelling), else None."""
    if name in PRETRAINED:
        return name
    family, sep, rest = name.partition("/")
    if sep and family in NAME_PREFIXES:
        candidate = NAME_PREFIXES[family] + rest
        if candidate in PRETRAINED and PRETRAINED[candidate].family == family:
            return candidate
    return None


def pretrained_spec(name: str) -> PretrainedSpec:
    """The specification of one pretrained generator of the reference.

    Args:
        name: str. A name from `pretrained_names()` (`"horse2zebra"`, `"pix2pix_sat2map"`), or
            `family/reference_name` (`"cyclegan/sat2map"`, `"pix2pix/sat2map"`).

    Returns:
        A `PretrainedSpec`.

    Raises:
        ValueError: for an unknown name; the message suggests the closest names and lists all of them.

    Example:

    >>> pretrained_spec("cyclegan/style_monet").description
    'landscape photo -> Monet painting style'
    """
    canonical = _canonical(str(name))
    if canonical is not None:
        return PRETRAINED[canonical]
    names = pretrained_names()
    # Match against both spellings, so that "edges2shoes" suggests "pix2pix_edges2shoes".
    spellings = {n: n for n in names}
    spellings.update({spec.reference_name: n for n, spec in PRETRAINED.items() if spec.family == "pix2pix"})
    close = difflib.get_close_matches(str(name), list(spellings), n=3, cutoff=0.6)
    suggestion = sorted({spellings[c] for c in close}, key=names.index)
    hint = f" Did you mean {' or '.join(repr(s) for s in suggestion)}?" if suggestion else ""
    raise ValueError(
        f"Invalid value for argument `name`. Received: name={name!r}.{hint} Expected one of {names} "
        "(or 'cyclegan/NAME' / 'pix2pix/NAME' with the name the reference's download script takes)."
    )
