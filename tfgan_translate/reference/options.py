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

Beside it, one `<epoch>_net_<net>.pth` file per network and epoch: `<epoch>_net_G.pth` and `<epoch>_net_D.pth`
for pix2pix, `<epoch>_net_G_A.pth`, `_G_B`, `_D_A`, `_D_B` for CycleGAN (`latest_` for the last epoch).

`parse_options` / `read_options` read the options file and `find_checkpoints` finds the checkpoint files
and the options file; `options_to_config_fields` (`tfgan_translate.reference.option_mapping`) maps the options
onto a config.

Example:

>>> text = '''----------------- Options ---------------
...                     model: pix2pix                       \\t[default: cycle_gan]
...                      netG: unet_256                      \\t[default: resnet_9blocks]
...                 direction: BtoA                          \\t[default: AtoB]
...                 lambda_L1: 100.0
... ----------------- End -------------------'''
>>> from tfgan_translate.reference.option_mapping import options_to_config_fields
>>> options = parse_options(text)
>>> options["lambda_L1"], options["direction"]
(100.0, 'BtoA')
>>> config_class, fields, notes = options_to_config_fields(options)
>>> config_class, fields["netG"], fields["lambda_l1"]
('Pix2PixConfig', 'unet_256', 100.0)
>>> found = find_checkpoints("checkpoints/facades_label2photo_pretrained")  # doctest: +SKIP
>>> found.layout, found.files  # doctest: +SKIP
('single', {'G': PosixPath('checkpoints/facades_label2photo_pretrained/latest_net_G.pth')})
"""

from __future__ import annotations

import ast
import contextlib
import re
from pathlib import Path
from typing import Any, NamedTuple

# Option files a run folder may hold, in the order they are preferred (training options first).
OPTION_FILENAMES = ("train_opt.txt", "opt.txt", "test_opt.txt")
# Networks each layout of checkpoint files holds, generators first.
NETWORK_ROLES = {"pix2pix": ("G", "D"), "cyclegan": ("G_A", "G_B", "D_A", "D_B"), "single": ("G",)}
_CHECKPOINT = re.compile(r"^(?P<epoch>.+?)_net_(?P<role>G_A|G_B|D_A|D_B|G|D)\.pth$")
_HEADER = re.compile(r"^-{3,}\s*Options\s*-{3,}\s*$")
_FOOTER = re.compile(r"^-{3,}\s*End\s*-{3,}\s*$")
_LINE = re.compile(r"^\s*(?P<key>[A-Za-z_][A-Za-z0-9_]*)\s*:(?P<rest>.*)$")
_DEFAULT = re.compile(r"\s*\[default: (?P<default>.*)\]\s*$")
_INF_NAN = re.compile(r"[+-]?(inf|nan)")

# Options whose values stay strings even when they look like numbers ("gpu_ids: 0", "epoch: 200", "name: 1").
_STRING_OPTIONS = frozenset({
    "name", "dataroot", "gpu_ids", "checkpoints_dir", "model", "netG", "netD", "norm", "init_type", "dataset_mode",
    "direction", "preprocess", "epoch", "suffix", "phase", "lr_policy", "gan_mode", "results_dir", "display_server",
    "display_env", "wandb_project_name", "model_suffix", "which_model_netG", "which_model_netD", "which_direction",
    "resize_or_crop", "which_epoch",
})


def _typed(key: str, text: str) -> Any:
    """The Python value of one option as the reference printed it (`str(value)`): a bool, None, a number, a list
    or a tuple where the text is one, else the text."""
    if key in _STRING_OPTIONS:
        return text
    if _INF_NAN.fullmatch(text):
        return float(text)
    with contextlib.suppress(ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        value = ast.literal_eval(text)
        if isinstance(value, (bool, int, float, list, tuple, type(None))):
            return value
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
        raise ValueError(f"{where} is not a reference options file: no '----------------- Options ---------------' "
                         "line (expected the train_opt.txt / opt.txt that the reference writes into "
                         "checkpoints/NAME/).")
    options: dict[str, Any] = {}
    for number, line in enumerate(lines[start + 1:], start=start + 2):
        if _FOOTER.match(line.strip()):
            break
        if not line.strip():
            continue
        match = _LINE.match(line)
        if match is None:
            raise ValueError(f"{where}, line {number}: expected 'name: value', received {line.strip()!r}.")
        key = match["key"]
        if key in options:
            raise ValueError(f"{where}, line {number}: option {key!r} is given twice.")
        options[key] = _typed(key, _DEFAULT.sub("", match["rest"]).strip())
    return options


def read_options(path: str | Path) -> dict[str, Any]:
    """Reads a reference options file into a dict of typed values.

    Args:
        path: str or Path. A `train_opt.txt` / `opt.txt` / `test_opt.txt` file (`find_checkpoints(folder)
            .options_file` is the one a run folder holds).

    Returns:
        A dict from option name to value (see `parse_options`).

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file is not in the reference's format (the message names it).

    Example:

    >>> read_options("checkpoints/horse2zebra/train_opt.txt")["netG"]  # doctest: +SKIP
    'resnet_9blocks'
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No reference options file at {path}.")
    return parse_options(path.read_text(encoding="utf-8", errors="replace"), source=path)


# === The checkpoint files ===


class ReferenceCheckpoints(NamedTuple):
    """The checkpoint files of one epoch of a reference run folder.

    Attributes:
        folder: Path. The run folder (`checkpoints/NAME/`).
        epoch: str. The epoch prefix of the files (`latest`, `200`, `iter_5000`).
        layout: str. "pix2pix" (`net_G`, `net_D`), "cyclegan" (`net_G_A`, `net_G_B`, `net_D_A`,
            `net_D_B`) or "single" (a lone `net_G`: the reference's pretrained downloads and
            `--model test` folders, of either family).
        files: dict. Network name ("G", "D", "G_A", ...) -> Path, the networks present, generators first.
        options_file: Path or None. The folder's `train_opt.txt` / `opt.txt` / `test_opt.txt`, if any.
    """

    folder: Path
    epoch: str
    layout: str
    files: dict
    options_file: Path | None


def find_checkpoints(folder: str | Path, epoch: str | int = "latest") -> ReferenceCheckpoints:
    """Finds the `<epoch>_net_*.pth` files and the options file of a reference run folder.

    pix2pix runs save `<epoch>_net_G.pth` and `<epoch>_net_D.pth`; CycleGAN runs
    `<epoch>_net_G_A.pth`, `_G_B`, `_D_A`, `_D_B` (G_A is the paper's G: A -> B, G_B its F: B -> A,
    D_A its D_Y, D_B its D_X); the pretrained downloads hold one `latest_net_G.pth`. The layout is
    told from the files; the generators must be there, the discriminators may not.

    Args:
        folder: str or Path. A reference `checkpoints/NAME/` folder.
        epoch: str or int. Which epoch: "latest" (the reference's default), a number, or "iter_N".
            Defaults to "latest".

    Returns:
        A `ReferenceCheckpoints`; its `options_file` is `train_opt.txt`, else `opt.txt`, else
        `test_opt.txt`, else None.

    Raises:
        FileNotFoundError: the folder does not exist, or lacks a generator file; the message lists the
            checkpoint files found and the epochs they cover.
        ValueError: the epoch holds files of both layouts (two runs in one folder).

    Example:

    >>> found = find_checkpoints("checkpoints/horse2zebra_cyclegan", epoch=200)  # doctest: +SKIP
    >>> sorted(found.files)  # doctest: +SKIP
    ['D_A', 'D_B', 'G_A', 'G_B']
    """
    folder, epoch = Path(folder), str(epoch)
    if not folder.is_dir():
        raise FileNotFoundError(f"No reference run folder at {folder}.")
    by_epoch: dict[str, dict[str, Path]] = {}
    for path in sorted(folder.iterdir()):
        match = _CHECKPOINT.match(path.name)
        if match is not None and path.is_file():
            by_epoch.setdefault(match["epoch"], {})[match["role"]] = path
    present = by_epoch.get(epoch, {})
    names = sorted(p.name for files in by_epoch.values() for p in files.values())
    epochs = sorted((e for e in by_epoch if e.isdigit()), key=int) + sorted(e for e in by_epoch if not e.isdigit())
    listing = "Found no <epoch>_net_*.pth files there." if not names else (
        f"Found: {', '.join(names[:12])}{f', ... ({len(names)} in all)' if len(names) > 12 else ''} "
        f"(epochs: {', '.join(epochs)}).")
    cyclegan, pix2pix = (any(role in present for role in NETWORK_ROLES[name]) for name in ("cyclegan", "pix2pix"))
    if cyclegan and pix2pix:
        raise ValueError(f"{folder} holds both pix2pix ({epoch}_net_G/D.pth) and CycleGAN ({epoch}_net_G_A/...) "
                         f"files for epoch {epoch!r}; move each run's files into a folder of its own.")
    if not (cyclegan or pix2pix):
        raise FileNotFoundError(f"No reference checkpoint for epoch {epoch!r} in {folder}: expected {epoch}_net_G.pth "
                                f"(pix2pix, pretrained) or {epoch}_net_G_A.pth and {epoch}_net_G_B.pth (CycleGAN). "
                                f"{listing}")
    layout = "cyclegan" if cyclegan else "pix2pix" if "D" in present else "single"
    missing = [f"{epoch}_net_{r}.pth" for r in NETWORK_ROLES[layout] if r not in present and r.startswith("G")]
    if missing:  # a D without its G, or a CycleGAN without both generators
        raise FileNotFoundError(f"Incomplete reference checkpoint in {folder} for "
                                f"{'a CycleGAN' if cyclegan else 'a pix2pix'} run at epoch {epoch!r}: "
                                f"missing {', '.join(missing)}. {listing}")
    files = {role: present[role] for role in NETWORK_ROLES[layout] if role in present}
    options_file = next((folder / n for n in OPTION_FILENAMES if (folder / n).is_file()), None)
    return ReferenceCheckpoints(folder=folder, epoch=epoch, layout=layout, files=files, options_file=options_file)
