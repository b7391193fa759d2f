"""The checkpoint files of a reference run folder: `<epoch>_net_<net>.pth`, one per network and epoch.

The PyTorch reference (junyanz/pytorch-CycleGAN-and-pix2pix) keeps each run in `checkpoints/NAME/`:
`<epoch>_net_G.pth` and `<epoch>_net_D.pth` for pix2pix, `<epoch>_net_G_A.pth`, `_G_B`, `_D_A`, `_D_B`
for CycleGAN (`latest_` for the last epoch), next to the run's options file (`train_opt.txt`,
`opt.txt` or `test_opt.txt`, read by `tfgan_translate.reference.options`).

Example:

>>> found = find_checkpoints("checkpoints/facades_label2photo_pretrained")  # doctest: +SKIP
>>> found.layout, found.generators  # doctest: +SKIP
('single', {'G': PosixPath('checkpoints/facades_label2photo_pretrained/latest_net_G.pth')})
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

# Option files a run folder may hold, in the order they are preferred (training options first).
OPTION_FILENAMES = ("train_opt.txt", "opt.txt", "test_opt.txt")

# Networks each layout of checkpoint files holds, generators first.
NETWORK_ROLES = {"pix2pix": ("G", "D"), "cyclegan": ("G_A", "G_B", "D_A", "D_B"), "single": ("G",)}
_CHECKPOINT = re.compile(r"^(?P<epoch>.+?)_net_(?P<role>G_A|G_B|D_A|D_B|G|D)\.pth$")


@dataclasses.dataclass(frozen=True)
class ReferenceCheckpoints:
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

    @property
    def generators(self) -> dict:
        """The generator files only ({"G": ...} or {"G_A": ..., "G_B": ...})."""
        return {role: path for role, path in self.files.items() if role.startswith("G")}


def find_checkpoints(folder: str | Path, epoch: str | int = "latest", *, model: str | None = None,
                     discriminators: bool = False) -> ReferenceCheckpoints:
    """Finds the `<epoch>_net_*.pth` files of a reference run folder.

    pix2pix runs save `<epoch>_net_G.pth` and `<epoch>_net_D.pth`; CycleGAN runs
    `<epoch>_net_G_A.pth`, `_G_B`, `_D_A`, `_D_B` (G_A is the paper's G: A -> B, G_B its F: B -> A,
    D_A its D_Y, D_B its D_X); the pretrained downloads hold one `latest_net_G.pth`.

    Args:
        folder: str or Path. A reference `checkpoints/NAME/` folder.
        epoch: str or int. Which epoch: "latest" (the reference's default), a number, or "iter_N".
            Defaults to "latest".
        model: str or None. "pix2pix", "cyclegan" (or "cycle_gan") or "single" to require that
            layout; None detects it from the files. Defaults to None.
        discriminators: bool. Also require the discriminators (to resume training rather than
            translate). Defaults to False.

    Returns:
        A `ReferenceCheckpoints`.

    Raises:
        FileNotFoundError: the folder does not exist, or lacks a required file; the message lists the
            checkpoint files found and the epochs they cover.
        ValueError: `model` is not one of the layouts, or the epoch holds both layouts and `model` is None.

    Example:

    >>> found = find_checkpoints("checkpoints/horse2zebra_cyclegan", epoch=200)  # doctest: +SKIP
    >>> sorted(found.files)  # doctest: +SKIP
    ['D_A', 'D_B', 'G_A', 'G_B']
    """
    folder = Path(folder)
    epoch = str(epoch)
    if model == "cycle_gan":
        model = "cyclegan"
    if model is not None and model not in NETWORK_ROLES:
        raise ValueError(
            f"Invalid value for argument `model`. Received: model={model!r}. Expected None or one of "
            f"{sorted(NETWORK_ROLES)}."
        )
    if not folder.is_dir():
        raise FileNotFoundError(f"No reference run folder at {folder}.")

    by_epoch: dict[str, dict[str, Path]] = {}
    for path in sorted(folder.iterdir()):
        match = _CHECKPOINT.match(path.name)
        if match is not None and path.is_file():
            by_epoch.setdefault(match["epoch"], {})[match["role"]] = path
    present = by_epoch.get(epoch, {})

    def describe() -> str:
        if not by_epoch:
            return "Found no <epoch>_net_*.pth files there."
        names = sorted(p.name for files in by_epoch.values() for p in files.values())
        shown = ", ".join(names[:12]) + (f", ... ({len(names)} in all)" if len(names) > 12 else "")
        return f"Found: {shown} (epochs: {', '.join(_epoch_order(by_epoch))})."

    layout = model
    if layout is None:
        has_cyclegan = any(role in present for role in NETWORK_ROLES["cyclegan"])
        has_pix2pix = any(role in present for role in NETWORK_ROLES["pix2pix"])
        if has_cyclegan and has_pix2pix:
            raise ValueError(
                f"{folder} holds both pix2pix ({epoch}_net_G/D.pth) and CycleGAN ({epoch}_net_G_A/...) files for "
                f"epoch {epoch!r}; pass model='pix2pix' or model='cyclegan'."
            )
        if has_cyclegan:
            layout = "cyclegan"
        elif has_pix2pix:
            layout = "pix2pix" if "D" in present else "single"
        else:
            raise FileNotFoundError(
                f"No reference checkpoint for epoch {epoch!r} in {folder}: expected {epoch}_net_G.pth (pix2pix, "
                f"pretrained) or {epoch}_net_G_A.pth and {epoch}_net_G_B.pth (CycleGAN). {describe()}"
            )
    roles = NETWORK_ROLES[layout]
    required = [r for r in roles if r.startswith("G") or (discriminators and layout != "single")]
    missing = [f"{epoch}_net_{r}.pth" for r in required if r not in present]
    if missing:
        kind = {"pix2pix": "a pix2pix", "cyclegan": "a CycleGAN", "single": "a single-generator"}[layout]
        raise FileNotFoundError(
            f"Incomplete reference checkpoint in {folder} for {kind} run at epoch {epoch!r}: missing "
            f"{', '.join(missing)}. {describe()}"
        )
    files = {r: present[r] for r in roles if r in present}
    options_file = next((folder / n for n in OPTION_FILENAMES if (folder / n).is_file()), None)
    return ReferenceCheckpoints(folder=folder, epoch=epoch, layout=layout, files=files, options_file=options_file)


def _epoch_order(by_epoch: dict) -> list[str]:
    """Epoch names, numbers in numeric order first, then the others (latest, iter_N) by name."""
    numeric = sorted((e for e in by_epoch if e.isdigit()), key=int)
    return numeric + sorted(e for e in by_epoch if not e.isdigit())
