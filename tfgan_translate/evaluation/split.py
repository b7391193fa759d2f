"""Translating a paired data set's test split into OUT/input/, OUT/pred/ and OUT/truth/, ready for `evaluate_folders`.

`translate_split` translates the split (with a run's generator or an export) into ``OUT/pred/``, writing the
matching targets to ``OUT/truth/`` and the inputs to ``OUT/input/``. Every file of the split is checked before
the first is translated (`pairing.readable_pairs`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from tfgan_translate.data.files import list_images, save_image
from tfgan_translate.evaluation.pairing import loaded_pairs, match_files, readable_pairs, resize_to

log = logging.getLogger("tfgan_translate")


def _split_pairs(data: str | Path, split: str | None, input_domain: str) -> list[tuple[str, Path, Path | None, bool]]:
    """(name, input file, truth file, aligned) for each pair of a paired data set's split.

    For aligned A|B files both are the same file (input half chosen by `input_domain`).
    """
    from tfgan_translate.data.paired import resolve_paired_split

    where = resolve_paired_split(data, split)
    if where.layout == "aligned":
        return [(p.stem, p, p, True) for p in list_images(where.folder_a)]
    folders = (where.folder_a, where.folder_b) if input_domain == "A" else (where.folder_b, where.folder_a)
    matched = match_files(*folders)
    return [(name, source, target, False) for name, source, target in matched]


def _half(image: np.ndarray, domain: str) -> np.ndarray:
    half = image.shape[1] // 2
    return image[:, :half] if domain == "A" else image[:, half:2 * half]


def translate_split(
    translate: Callable[[np.ndarray], np.ndarray],
    data: str | Path,
    out_dir: str | Path,
    *,
    split: str | None = "test",
    input_domain: str = "A",
    input_channels: int = 3,
    output_channels: int = 3,
    size: int | None = None,
    skip_bad_files: bool = False,
) -> dict[str, Path]:
    """Translates a paired data set's split; writes OUT/input/, OUT/pred/ and OUT/truth/ as <stem>.png.

    Every file of the split is checked before the first is translated (`readable_pairs`).

    Args:
        translate: callable (H, W, input_channels) in [-1, 1] -> (H, W, C) in [-1, 1]
            (e.g. `inference.translate_array` bound to a generator, or an
            export's `translate_array`).
        data: str or Path. The data set: aligned A|B files or A/ + B/ folders
            (the layouts `paired_dataset` reads).
        out_dir: str or Path. Created if missing.
        split: str or None. "test" (falls back to "val"). Defaults to "test".
        input_domain: "A" or "B": the side the generator takes (the run's
            direction: "A" for AtoB); the other side is the truth.
        input_channels, output_channels: int. Channels the inputs and the truth are read with.
        size: int or None. Resize inputs and truths to size x size (bicubic)
            first, e.g. the training size; None keeps the files' size.
        skip_bad_files: bool. Leave out the pairs with an unreadable file (logged) instead of raising.
            Defaults to False.

    Returns:
        {"input": Path, "pred": Path, "truth": Path}.

    Raises:
        DataError: an unreadable file without `skip_bad_files` (named, with the flag to pass), or a split
            that is missing or empty.
    """
    if input_domain not in ("A", "B"):
        raise ValueError(f"Invalid value for argument `input_domain`. Received: input_domain={input_domain!r}. "
                         "Expected 'A' or 'B'.")
    pairs, skipped = split_pairs(data, split, input_domain, skip_bad_files)
    return translate_pairs(translate, pairs, out_dir, input_domain=input_domain, input_channels=input_channels,
                           output_channels=output_channels, size=size, skip_bad_files=skip_bad_files,
                           skipped=skipped, description=f"the {split} split of {data}")


def split_pairs(data: str | Path, split: str | None, input_domain: str,
                skip_bad_files: bool = False) -> tuple[list[tuple], list[dict]]:
    """(pairs, skipped) of a paired data set's split: `_split_pairs` through `readable_pairs`.

    Each pair is (name, input file, truth file, aligned); see `readable_pairs` for `skipped`.
    """
    pairs = _split_pairs(data, split, input_domain)
    good, skipped = readable_pairs([(name, source, target) for name, source, target, _ in pairs], skip_bad_files)
    aligned = {name: flag for name, _, _, flag in pairs}
    return [(name, source, target, aligned[name]) for name, source, target in good], skipped


def translate_pairs(translate: Callable[[np.ndarray], np.ndarray], pairs: Sequence[tuple], out_dir: str | Path, *,
                    input_domain: str, input_channels: int, output_channels: int, size: int | None,
                    skip_bad_files: bool, skipped: list[dict], description: str = "the split") -> dict[str, Path]:
    """`translate_split`'s loop over `split_pairs`; a pair failing to load is added to `skipped` (or raises)."""
    truth_domain = "B" if input_domain == "A" else "A"
    out_dir = Path(out_dir)
    folders = {key: out_dir / key for key in ("input", "pred", "truth")}
    aligned_of = {pair[0]: pair[3] for pair in pairs}
    loaded = loaded_pairs([pair[:3] for pair in pairs], (input_channels, output_channels), skip_bad_files, skipped)
    for name, image, truth in loaded:
        if aligned_of[name]:
            image, truth = _half(image, input_domain), _half(truth, truth_domain)
        if size is not None:
            image, truth = resize_to(image, size, size), resize_to(truth, size, size)
        save_image(image, folders["input"] / f"{name}.png")
        save_image(translate(image), folders["pred"] / f"{name}.png")
        save_image(truth, folders["truth"] / f"{name}.png")
    log.info("Translated %s into %s", description, folders["pred"])
    return folders


__all__ = ["split_pairs", "translate_pairs", "translate_split"]
