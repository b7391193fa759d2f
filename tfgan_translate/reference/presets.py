"""The 29 pretrained generators as presets (keras-hub style): one table of data, fetched by get_file.

The PyTorch reference (junyanz/pytorch-CycleGAN-and-pix2pix) publishes 18 CycleGAN and 5 pix2pix generators,
each a single `state_dict` file, at the addresses its two download scripts build:
`scripts/download_cyclegan_model.sh NAME` fetches `URL_PREFIXES["cyclegan"] + NAME.pth` and
`scripts/download_pix2pix_model.sh NAME` `URL_PREFIXES["pix2pix"] + NAME.pth`. The CUT authors
(taesungp/contrastive-unpaired-translation) publish 6 more, CUT and FastCUT on three datasets, in one tar
(`CUT_ARCHIVE`): it is downloaded once and each preset's member copied out of it (`archive.extract_member`).

Names. Three names (`sat2map`, `map2sat`, `facades_label2photo`) exist in both families; here the CycleGAN
generators keep the reference's names and the pix2pix ones get a `pix2pix_` prefix, so every name is unique.

Architecture. CycleGAN generators are the reference's CycleGAN defaults (resnet_9blocks, instance norm, no
dropout, ngf 64); pix2pix ones its pix2pix defaults (unet_256, batch norm, dropout 0.5, ngf 64); CUT ones the CUT
authors' (resnet_9blocks, instance norm, anti-aliased down- and upsampling); all RGB -> RGB.
`direction` says which way the generator maps the reference's dataset (its README runs `horse2zebra` on
`testA`; facades, cityscapes and maps hold the photo in A; night2day holds night in A).

Files. `fetch` downloads a file once with `keras.utils.get_file` into
`$TFGAN_TRANSLATE_DATA/pretrained/NAME_pretrained/latest_net_G.pth` (else `~/.cache/tfgan_translate/...`),
the reference's `checkpoints/` layout; a later call finds it there and downloads nothing. The reference
publishes no checksums, so `sha256` is None for every entry; a digest put in `SHA256_DIGESTS` is checked by
get_file on every call. For scale: a resnet_9blocks generator is ~45.5 MB, a unet_256 one ~217.7 MB.

Example:

>>> preset = get_preset("pix2pix_sat2map")
>>> preset.architecture["netG"], preset.direction, preset.url
('unet_256', 'AtoB', 'http://efrosgans.eecs.berkeley.edu/pix2pix/models-pytorch/sat2map.pth')
>>> len(preset_names()), preset_names("pix2pix")[:2]
(29, ['pix2pix_edges2shoes', 'pix2pix_sat2map'])
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import socket
from pathlib import Path

from tfgan_translate.reference.archive import extract_member

URL_PREFIXES = {
    "cyclegan": "http://efrosgans.eecs.berkeley.edu/cyclegan/pretrained_models/",
    "pix2pix": "http://efrosgans.eecs.berkeley.edu/pix2pix/models-pytorch/",
}
# The CUT authors' six generators: one tar, member `checkpoints/NAME_pretrained/latest_net_G.pth` (their README).
CUT_ARCHIVE = "http://efrosgans.eecs.berkeley.edu/CUT/pretrained_models.tar"
# Each family's generator, as the reference builds it for these files (config fields of this package).
FAMILY_ARCHITECTURES = {
    "cyclegan": dict(netG="resnet_9blocks", norm="instance", dropout=0.0, ngf=64, input_channels=3, output_channels=3),
    "pix2pix": dict(netG="unet_256", norm="batch", dropout=0.5, ngf=64, input_channels=3, output_channels=3),
    "cut": dict(netG="resnet_9blocks", norm="instance", dropout=0.0, ngf=64, input_channels=3, output_channels=3,
                downsample="blur", upsample="blur"),  # the CUT authors' defaults: anti-aliased down and up
}
NAME_PREFIXES = {"cyclegan": "", "pix2pix": "pix2pix_", "cut": ""}

# family -> [(the reference's name, its dataset, direction, what the generator does)], in the order of the
# reference's download scripts.
TABLE = {
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
    "cut": [  # the order of the authors' experiments/pretrained_launcher.py; the suffix is their CUT_mode
        ("cityscapes_cut", "cityscapes", "BtoA", "label map -> street scene (CUT)"),
        ("cityscapes_fastcut", "cityscapes", "BtoA", "label map -> street scene (FastCUT)"),
        ("horse2zebra_cut", "horse2zebra", "AtoB", "horse -> zebra (CUT)"),
        ("horse2zebra_fastcut", "horse2zebra", "AtoB", "horse -> zebra (FastCUT)"),
        ("cat2dog_cut", "afhq/cat2dog", "AtoB", "cat -> dog (CUT)"),
        ("cat2dog_fastcut", "afhq/cat2dog", "AtoB", "cat -> dog (FastCUT)"),
    ],
}
SHA256_DIGESTS: dict[str, str] = {}  # this package's name -> SHA-256 of the file; none are published
FILENAME = "latest_net_G.pth"  # the name the reference's download scripts save a file under


@dataclasses.dataclass(frozen=True)
class Preset:
    """One pretrained generator of the reference.

    Attributes:
        name: str. This package's name for it.
        family: str. "cyclegan", "pix2pix" or "cut", the model that trained it.
        reference_name: str. The name the reference's download script takes (the CUT authors' run name, without
            its "_pretrained" suffix).
        dataset: str. The reference's dataset it was trained on.
        direction: str. "AtoB" or "BtoA": which way the generator maps that dataset.
        description: str. What it does, e.g. "horse -> zebra".
        architecture: dict. Config fields of the generator: netG, norm, dropout, ngf, input_channels,
            output_channels.
        url: str. Address of the `.pth` file, or of the archive holding it (see `member`).
        sha256: str or None. SHA-256 of the file (the archive's with `member`), checked when known.
        member: str or None. The `.pth` file's name inside the tar archive at `url`; None: `url` is the file.
    """

    name: str
    family: str
    reference_name: str
    dataset: str
    direction: str
    description: str
    architecture: dict
    url: str
    sha256: str | None = None
    member: str | None = None


def _preset(family: str, ref: str, dataset: str, direction: str, description: str) -> Preset:
    name, archive = NAME_PREFIXES[family] + ref, family == "cut"
    return Preset(name, family, ref, dataset, direction, description, dict(FAMILY_ARCHITECTURES[family]),
                  CUT_ARCHIVE if archive else f"{URL_PREFIXES[family]}{ref}.pth", SHA256_DIGESTS.get(name),
                  f"checkpoints/{ref}_pretrained/{FILENAME}" if archive else None)


PRESETS = {preset.name: preset for family, rows in TABLE.items() for preset in (_preset(family, *row) for row in rows)}


def preset_names(family: str | None = None) -> list[str]:
    """The preset names, in the order of the reference's download scripts; of one family ("cyclegan",
    "pix2pix", "cut") or, with None, all 29."""
    return [name for name, preset in PRESETS.items() if family in (None, preset.family)]


def get_preset(name: str) -> Preset:
    """The `Preset` called `name`; for an unknown name a ValueError that suggests the closest ones.

    Example:

    >>> get_preset("style_monet").description
    'landscape photo -> Monet painting style'
    """
    if name in PRESETS:
        return PRESETS[name]
    spellings = {**{p.reference_name: n for n, p in PRESETS.items()}, **{n: n for n in PRESETS}}
    close = sorted({spellings[c] for c in difflib.get_close_matches(str(name), list(spellings), n=3, cutoff=0.6)})
    hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
    raise ValueError(f"Invalid value for argument `preset`. Received: preset={name!r}.{hint} Expected an existing "
                     f".pth file, a reference checkpoints/NAME/ folder or a preset name, one of {preset_names()}.")


class DownloadError(OSError):
    """A preset's file could not be downloaded; the one-line message names the address and the way out."""


def fetch(preset: Preset, cache_dir: str | os.PathLike | None = None, timeout: float = 30.0) -> Path:
    """The local file of `preset`, downloaded once with `keras.utils.get_file` (the hash checked when known).

    Args:
        preset: Preset. The table entry.
        cache_dir: str, path-like or None. The cache folder; None: `$TFGAN_TRANSLATE_DATA/pretrained` or
            `~/.cache/tfgan_translate/pretrained`. Defaults to None.
        timeout: float. Seconds to wait for the connection and each read (get_file opens its connection
            without one, so it is set as the socket default while it runs). Defaults to 30.

    Returns:
        The Path of `CACHE/NAME_pretrained/latest_net_G.pth`. A preset in an archive: the archive is downloaded
        once into `CACHE/FAMILY/` and the member copied out of it on first use.

    Raises:
        DownloadError: the server is unreachable, answered with an HTTP error, or the file fails its hash
            (nothing is kept); one line that names the address and how to pass a local file instead.
    """
    import keras

    from tfgan_translate.data.layout import default_data_home

    root = Path(cache_dir).expanduser() if cache_dir is not None else default_data_home() / "pretrained"
    root.mkdir(parents=True, exist_ok=True)  # get_file falls back to /tmp/.keras for a folder it cannot write
    target = root / f"{preset.name}_pretrained" / FILENAME
    if preset.member is not None and target.is_file():  # copied out of the archive before
        return target
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    fetched = target
    name, subdir = (FILENAME, target.parent.name) if preset.member is None else (Path(preset.url).name, preset.family)
    try:
        fetched = Path(keras.utils.get_file(name, preset.url, file_hash=preset.sha256, hash_algorithm="sha256",
                                            cache_dir=str(root), cache_subdir=subdir))
        return fetched if preset.member is None else extract_member(fetched, preset.member, target)
    except Exception as error:  # get_file raises a bare Exception for URL errors, ValueError for a wrong hash
        fetched.unlink(missing_ok=True)  # an archive that is no tar (an error page) is not kept either
        cause = error.__context__ if type(error) is Exception and error.__context__ is not None else error
        raise DownloadError(
            f"Cannot download preset {preset.name!r} from {preset.url}: {' '.join(str(cause).split())}. Offline, "
            f"fetch that file elsewhere{f', take {preset.member} out of it' if preset.member else ''} and pass its "
            "path instead: from_preset('PATH.pth') or `tfgan-translate import PATH.pth --out RUN`."
        ) from error
    finally:
        socket.setdefaulttimeout(previous)

