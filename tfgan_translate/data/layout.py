"""Finding the data: which layout a path holds, for paired and unpaired data, and the built-in sets.

Paired (pix2pix) layouts, checked in this order for each split name:

1. two folders ``PATH/SPLIT/A/`` + ``PATH/SPLIT/B/``, or ``PATH/A/SPLIT/`` + ``PATH/B/SPLIT/`` (the
   reference's combine_A_and_B input layout): A and B files are paired by file name without extension;
2. aligned ``PATH/SPLIT/``: each file holds A and B side by side (A left, B right).

When no split folder exists, ``PATH/A/`` + ``PATH/B/`` holding images directly (two folders) or images
directly in ``PATH`` (aligned) are used for any split.

Unpaired (CycleGAN) sources, in this order:

1. ``"tfds:NAME"`` (e.g. ``"tfds:cycle_gan/horse2zebra"``): TFDS splits ``SPLITA`` / ``SPLITB``
   (read by `tfgan_translate.data.tfds_source`);
2. the CycleGAN layout ``PATH/SPLITA/`` + ``PATH/SPLITB/`` (trainA, trainB, testA, testB; valA, valB);
3. a paired data set used unpaired, found as for paired data.

Split names: "test" tries "test" then "val", "val" the reverse; other names only themselves.

Built-in sets (`resolve_data`): "synth" is the synthetic facades (paired for pix2pix, unpaired for
CycleGAN), "synth:palette" CycleGAN's easy unpaired set; they are generated on first use under
`default_data_home()`.

Example:

>>> resolve_paired_split("data/facades", "test")       # doctest: +SKIP
PairedSplit(layout='aligned', folder_a=PosixPath('data/facades/test'), folder_b=None)
>>> resolve_unpaired_source("data/horse2zebra", "train")  # doctest: +SKIP
UnpairedSource(layout='unaligned', source_a=PosixPath('data/horse2zebra/trainA'), ...)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NamedTuple

from tfgan_translate.data import tfds_source
from tfgan_translate.data.files import DataError, existing_folder, has_images
from tfgan_translate.data.synthetic.writer import write_synthetic_dataset, write_synthetic_unpaired_dataset

TFDS_PREFIX = "tfds:"
SYNTH = "synth"  # data value of the built-in synthetic sets ("synth", "synth:palette")
_SPLIT_FALLBACKS = {"test": ("test", "val"), "val": ("val", "test")}


class PairedSplit(NamedTuple):
    """Where one split of a paired data set lives.

    layout: "aligned" (folder_a holds A|B files, folder_b is None) or
        "two_folder" (folder_a holds the A images, folder_b the B images).
    """

    layout: str
    folder_a: Path
    folder_b: Path | None


class UnpairedSource(NamedTuple):
    """Where one split of an unpaired data set lives.

    layout: "unaligned" (CycleGAN trainA/ + trainB/), "aligned" (A|B files used
        unpaired), "two_folder" (A/ + B/ used unpaired) or "tfds".
    source_a: the folder of the A images (for "aligned": of the A|B files), or
        the TFDS split name of domain A (e.g. "trainA").
    source_b: the folder of the B images, None for "aligned", or the TFDS split
        name of domain B.
    tfds_name: the TFDS data set name (e.g. "cycle_gan/horse2zebra") for "tfds", else None.
    """

    layout: str
    source_a: Path | str
    source_b: Path | str | None
    tfds_name: str | None = None


# --------------------------------------------------------------------------- splits


def split_names(split: str | None) -> tuple[str, ...]:
    """The split folder names tried for `split`, in order: "test" -> ("test", "val"), None -> ().

    Raises:
        ValueError: unless `split` is None or a plain folder name.
    """
    if split is not None and (not isinstance(split, str) or not split or "/" in split or split in (".", "..")):
        raise ValueError(f"Invalid value for argument `split`. Received: split={split!r}. "
                         "Expected a folder name such as 'train', 'test' or 'val', or None.")
    return () if split is None else _SPLIT_FALLBACKS.get(split, (split,))


# --------------------------------------------------------------------------- paired


def _find_paired_split(root: Path, names: tuple[str, ...], looked: list[str]) -> PairedSplit | None:
    """The paired layout of the split folder `names` in the existing folder `root`, or None.

    Appends a description of every place looked at to `looked` (for error messages).
    """
    for name in names:
        for a, b in ((root / name / "A", root / name / "B"), (root / "A" / name, root / "B" / name)):
            looked.append(f"{a}/ + {b}/")
            if a.is_dir() and b.is_dir():
                return PairedSplit("two_folder", a, b)
        looked.append(f"{root / name}/ (aligned A|B images)")
        if (root / name).is_dir():
            return PairedSplit("aligned", root / name, None)
    a, b = root / "A", root / "B"
    looked.append(f"images in {a}/ + {b}/")
    if has_images(a) and has_images(b):
        return PairedSplit("two_folder", a, b)
    looked.append(f"aligned A|B images directly in {root}/")
    if has_images(root):
        return PairedSplit("aligned", root, None)
    return None


def resolve_paired_split(path: str | Path, split: str | None = "train") -> PairedSplit:
    """Finds the folder(s) holding one split of a paired data set.

    Args:
        path: str or Path. The data set root (or directly a folder of images).
        split: str or None. "train", "test", "val"...; "test" falls back to "val"
            and vice versa. None: use ``PATH/A`` + ``PATH/B`` or ``PATH`` itself.
            Defaults to "train".

    Returns:
        A `PairedSplit(layout, folder_a, folder_b)`.

    Raises:
        DataError: when `path` does not exist or none of the layouts is found;
            the message lists every place looked at.

    Example:

    >>> resolve_paired_split("data/facades", "test")  # doctest: +SKIP
    PairedSplit(layout='aligned', folder_a=PosixPath('data/facades/test'), folder_b=None)
    """
    names = split_names(split)
    root = existing_folder(path, "a folder of A|B images or one with A/ and B/ folders")
    looked: list[str] = []
    found = _find_paired_split(root, names, looked)
    if found is not None:
        return found
    raise DataError(f"No paired data for split={split!r} in {root}. Looked for: {'; '.join(looked)}. "
                    "Expected a folder of aligned A|B images or A/ and B/ folders with matching file names.")


# --------------------------------------------------------------------------- unpaired


def _tfds_split_pair(builder: Any, names: tuple[str, ...], path: str) -> tuple[str, str]:
    """The first ``(NAME + "A", NAME + "B")`` split pair of `names` that the builder has.

    When the builder declares no splits (as under `tfds.testing.mock_data`), the first name is used.

    Raises:
        DataError: listing the splits the data set has when none of `names` fits.
    """
    available = set(builder.info.splits.keys())
    fitting = [name for name in names if not available or {f"{name}A", f"{name}B"} <= available]
    if fitting:
        return f"{fitting[0]}A", f"{fitting[0]}B"
    wanted = ", ".join(f"{n}A + {n}B" for n in names)
    raise DataError(f"TFDS data set {path!r} has no split pair {wanted}; its splits are {sorted(available)}. "
                    "Unpaired TFDS data needs splits named like trainA/trainB and testA/testB (as cycle_gan/* has).")


def resolve_unpaired_source(path: str | Path, split: str | None = "train") -> UnpairedSource:
    """Finds one split of an unpaired data set: TFDS, CycleGAN folders, or a paired set.

    Args:
        path: str or Path. ``"tfds:NAME"``, or a data set root (see the module
            docstring for the layouts and their order).
        split: str or None. "train", "test", "val"...; "test" falls back to
            "val" and vice versa. None: a paired root's ``A/`` + ``B/`` or its
            images directly (not for TFDS). Defaults to "train".

    Returns:
        An `UnpairedSource(layout, source_a, source_b, tfds_name)`.

    Raises:
        DataError: when `path` does not exist, only one of ``SPLITA/`` and
            ``SPLITB/`` exists, or no layout is found; the message lists every
            place looked at.
        ImportError: for a ``tfds:`` path without tensorflow-datasets installed.

    Example:

    >>> resolve_unpaired_source("data/horse2zebra", "test")  # doctest: +SKIP
    UnpairedSource(layout='unaligned', source_a=PosixPath('data/horse2zebra/testA'), ...)
    """
    names = split_names(split)
    if str(path).startswith(TFDS_PREFIX):
        name = str(path)[len(TFDS_PREFIX):].strip()
        if not name:
            raise ValueError(f"Invalid value for argument `path`. Received: path={str(path)!r}. "
                             "Expected 'tfds:NAME', e.g. 'tfds:cycle_gan/horse2zebra'.")
        if split is None:
            raise ValueError(f"Invalid value for argument `split`. Received: split=None for path={path!r}. "
                             "Expected a split name such as 'train' or 'test' for TFDS data.")
        builder = tfds_source.load_builder(name)
        split_a, split_b = _tfds_split_pair(builder, names, str(path))
        return UnpairedSource("tfds", split_a, split_b, name)

    root = existing_folder(path, "a folder with trainA/ and trainB/ folders")
    looked, half = [], None  # half: (present, missing) of the first split with one domain folder
    for name in names:
        a, b = root / f"{name}A", root / f"{name}B"
        looked.append(f"{a}/ + {b}/")
        if a.is_dir() and b.is_dir():
            return UnpairedSource("unaligned", a, b)
        if half is None and (a.is_dir() or b.is_dir()):
            half = (a, b) if a.is_dir() else (b, a)
    if half is not None:
        raise DataError(f"Found {half[0]}/ but not {half[1]}/: the CycleGAN layout needs both domain folders "
                        f"(split={split!r}).")
    paired = _find_paired_split(root, names, looked)
    if paired is not None:
        return UnpairedSource(paired.layout, paired.folder_a, paired.folder_b)
    raise DataError(f"No unpaired data for split={split!r} in {root}. Looked for: {'; '.join(looked)}. "
                    "Expected CycleGAN folders (trainA/ trainB/ testA/ testB/), a paired set to use unpaired "
                    "(aligned A|B images, or A/ and B/ folders), or path='tfds:cycle_gan/NAME'.")


# --------------------------------------------------------------------------- built-in sets


def default_data_home() -> Path:
    """Where built-in datasets are generated: $TFGAN_TRANSLATE_DATA or ~/.cache/tfgan_translate."""
    return Path(os.environ.get("TFGAN_TRANSLATE_DATA", Path.home() / ".cache" / "tfgan_translate"))


def resolve_data(data: str, *, paired: bool) -> str | Path:
    """Turns a `data` value into a folder (or a TFDS path), generating the built-in sets on request.

    Args:
        data: str. A data folder, ``"tfds:NAME"``, or a built-in set: "synth" is the synthetic
            facades, paired (label map | photo) for pix2pix, unpaired (label maps in trainA, photos
            of other label maps in trainB) for CycleGAN; "synth:palette" is CycleGAN's easy unpaired
            set whose hidden mapping is a palette permutation.
        paired: bool. The data feeds a paired (pix2pix) model.

    Returns:
        The folder as a Path, or the ``"tfds:..."`` string unchanged.

    Raises:
        ValueError: for an empty value or a built-in set that does not exist for the model.
        DataError: when the folder does not exist.

    Example:

    >>> root = resolve_data("synth", paired=True)   # generated under default_data_home()  # doctest: +SKIP
    """
    if not data:
        raise ValueError("Invalid value for `data`. Received: data=''. Expected a dataset folder or 'synth'.")
    if data.startswith(TFDS_PREFIX):
        return data
    if data == SYNTH or data.startswith(SYNTH + ":"):
        kind = data.partition(":")[2] or "facades"
        if paired and kind != "facades":
            raise ValueError(f"Invalid value for `data`. Received: data={data!r}. pix2pix's built-in set is 'synth'.")
        if paired:
            return write_synthetic_dataset(default_data_home() / "synth_facades")
        return write_synthetic_unpaired_dataset(default_data_home() / f"synth_unpaired_{kind}", kind=kind)
    path = Path(data).expanduser()
    if not path.exists():
        raise DataError(f"Invalid value for `data`: {data} does not exist. Expected a dataset folder or 'synth'.")
    return path

