"""A reference run folder: its options file, their mapping onto this package's config, its checkpoints.

The PyTorch reference (junyanz/pytorch-CycleGAN-and-pix2pix) keeps each run in
`checkpoints/NAME/`: one `<epoch>_net_<net>.pth` file per network and epoch (`latest_` for the last),
and the options of the run, written by `BaseOptions.print_options` as `<phase>_opt.txt`
(`train_opt.txt`, `test_opt.txt`; `opt.txt` before 2019) in this format::

    ----------------- Options ---------------
                   batch_size: 1
                     dataroot: ./datasets/facades          	[default: None]
                    direction: BtoA                        	[default: AtoB]
    ...
    ----------------- End -------------------

(`{:>25}: {:<30}` per option, sorted by name, then a tab and the default where the value differs from
it). Older versions wrote `name: value` lines between `------------ Options -------------` and
`-------------- End ----------------`, with older option names (`which_model_netG`, `loadSize`,
`niter`, `no_lsgan`, ...); both are read.

`parse_options` / `read_options` / `find_options_file` (here) read the options file;
`options_to_config_fields` (`tfgan_translate.reference.option_mapping`) maps them onto a config, and
`find_checkpoints` (`tfgan_translate.reference.checkpoint_folder`) finds the checkpoint files. All are
importable from this module.

Example:

>>> text = '''----------------- Options ---------------
...                     model: pix2pix                       \\t[default: cycle_gan]
...                      netG: unet_256                      \\t[default: resnet_9blocks]
...                 direction: BtoA                          \\t[default: AtoB]
...                 lambda_L1: 100.0
... ----------------- End -------------------'''
>>> options = parse_options(text)
>>> options["lambda_L1"], options["direction"]
(100.0, 'BtoA')
>>> config_class, fields, notes = options_to_config_fields(options)
>>> config_class, fields["netG"], fields["lambda_l1"]
('Pix2PixConfig', 'unet_256', 100.0)
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from tfgan_translate.reference.checkpoint_folder import (
    NETWORK_ROLES,
    OPTION_FILENAMES,
    ReferenceCheckpoints,
    find_checkpoints,
)
from tfgan_translate.reference.option_mapping import LEGACY_OPTION_NAMES, MappedOptions, options_to_config_fields

__all__ = [
    "LEGACY_OPTION_NAMES",
    "NETWORK_ROLES",
    "OPTION_FILENAMES",
    "MappedOptions",
    "ReferenceCheckpoints",
    "find_checkpoints",
    "find_options_file",
    "options_to_config_fields",
    "parse_options",
    "read_options",
]

_HEADER = re.compile(r"^-{3,}\s*Options\s*-{3,}\s*$")
_FOOTER = re.compile(r"^-{3,}\s*End\s*-{3,}\s*$")
_LINE = re.compile(r"^\s*(?P<key>[A-Za-z_][A-Za-z0-9_]*)\s*:(?P<rest>.*)$")
_DEFAULT = re.compile(r"\s*\[default: (?P<default>.*)\]\s*$")
_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$|^[+-]?(inf|nan)$")

# Options whose values stay strings even when they look like numbers ("gpu_ids: 0", "epoch: 200", "name: 1").
_STRING_OPTIONS = frozenset({
    "name", "dataroot", "gpu_ids", "checkpoints_dir", "model", "netG", "netD", "norm", "init_type", "dataset_mode",
    "direction", "preprocess", "epoch", "suffix", "phase", "lr_policy", "gan_mode", "results_dir", "display_server",
    "display_env", "wandb_project_name", "model_suffix", "which_model_netG", "which_model_netD", "which_direction",
    "resize_or_crop", "which_epoch",
})


def _typed(key: str, text: str) -> Any:
    """The Python value of one option as the reference printed it (`str(value)`)."""
    if key in _STRING_OPTIONS:
        return text
    if text in ("True", "False"):
        return text == "True"
    if text == "None":
        return None
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    if text[:1] in "[(" and text[-1:] in "])":
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return text
    return text


def parse_options(text: str, *, source: str | Path | None = None) -> dict[str, Any]:
    """Reads the text of a reference options file into a dict of typed values.

    Values are converted back from how the reference printed them: "True"/"False" -> bool, "None" ->
    None, integers -> int, "0.0002"/"inf" -> float, "[0, 1]" -> list; names, paths and a few options
    that only look numeric (`gpu_ids`, `epoch`, `name`, ...) stay strings. The `[default: ...]`
    comments are dropped.

    Args:
        text: str. The file's content.
        source: str, Path or None. The file it came from, named in errors. Defaults to None.

    Returns:
        A dict from option name (as written, old names included) to value, in file order.

    Raises:
        ValueError: no `Options` header, a line that is not `name: value`, or an option given twice
            (the message names the file and the line).

    Example:

    >>> parse_options("------------ Options -------------\\nloadSize: 286\\nno_lsgan: False\\n-------------- End ---")
    {'loadSize': 286, 'no_lsgan': False}
    """
    where = f"{source}" if source is not None else "the options text"
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if _HEADER.match(line.strip())), None)
    if start is None:
        raise ValueError(
            f"{where} is not a reference options file: no '----------------- Options ---------------' line "
            "(expected the train_opt.txt / opt.txt that the reference writes into checkpoints/NAME/)."
        )
    options: dict[str, Any] = {}
    for number, line in enumerate(lines[start + 1:], start=start + 2):
        if _FOOTER.match(line.strip()):
            break
        if not line.strip():
            continue
        match = _LINE.match(line)
        if match is None:
            raise ValueError(f"{where}, line {number}: expected 'name: value', received {line.strip()!r}.")
        key, rest = match["key"], match["rest"]
        rest = _DEFAULT.sub("", rest) if "[default: " in rest else rest
        value = rest[1:] if rest.startswith(" ") else rest  # one space after the colon, then the padded value
        if key in options:
            raise ValueError(f"{where}, line {number}: option {key!r} is given twice.")
        options[key] = _typed(key, value.strip())
    return options


def find_options_file(folder: str | Path) -> Path:
    """The options file of a reference run folder: `train_opt.txt`, else `opt.txt`, else `test_opt.txt`.

    Args:
        folder: str or Path. A reference `checkpoints/NAME/` folder.

    Returns:
        The Path of the file.

    Raises:
        FileNotFoundError: none of them is there (the message lists what is).

    Example:

    >>> find_options_file("checkpoints/facades_pix2pix")  # doctest: +SKIP
    PosixPath('checkpoints/facades_pix2pix/train_opt.txt')
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"No reference run folder at {folder}.")
    for filename in OPTION_FILENAMES:
        if (folder / filename).is_file():
            return folder / filename
    found = sorted(p.name for p in folder.iterdir())
    raise FileNotFoundError(
        f"No options file in {folder}: expected one of {list(OPTION_FILENAMES)}. Found: {found or 'nothing'}."
    )


def read_options(path: str | Path) -> dict[str, Any]:
    """Reads a reference options file (or the one in a run folder) into a dict of typed values.

    Args:
        path: str or Path. A `train_opt.txt` / `opt.txt` / `test_opt.txt` file, or a reference
            `checkpoints/NAME/` folder (then `find_options_file` picks the file).

    Returns:
        A dict from option name to value (see `parse_options`).

    Raises:
        FileNotFoundError: the file (or any options file in the folder) does not exist.
        ValueError: the file is not in the reference's format (the message names it).

    Example:

    >>> read_options("checkpoints/horse2zebra")["netG"]  # doctest: +SKIP
    'resnet_9blocks'
    """
    path = Path(path)
    if path.is_dir():
        path = find_options_file(path)
    if not path.is_file():
        raise FileNotFoundError(f"No reference options file at {path}.")
    return parse_options(path.read_text(encoding="utf-8", errors="replace"), source=path)
