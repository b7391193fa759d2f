"""The reference's files as a run folder of this package: `tfgan-translate import`, `import_reference`.

`import_reference(source, out_dir)` builds the model (`loader.build`: a preset name, a `.pth` file or a reference
`checkpoints/NAME/` folder; see `tfgan_translate.reference.loader`) and writes a run folder that translate,
export, evaluate and `train --resume` read like one `train` wrote::

    OUT/
      config.json               the Pix2PixConfig / CycleGANConfig
      checkpoints/latest.keras  the model in float32, compiled with this package's optimizers (fresh, step 0)
      imported.json             provenance: each file's path or address, size, SHA-256, the architecture
                                read from it (`infer_architecture`), the reference's name of each network,
                                the date and this package's version

Everything is written into a staging folder first (`io.staged_folder`), so a failure leaves no half-written
run; a folder that already holds anything is refused unless `overwrite=True`, which replaces only the
files above and deletes nothing. The reference saves no optimizer state: `train --resume` continues from the
imported weights with fresh Adam moments and the step counter at 0, so the learning-rate schedule restarts.
An imported config has `data=""` unless given (`data=...`): a resumed run may not change it.

Example:

>>> result = import_reference("horse2zebra", "runs/horse2zebra")  # doctest: +SKIP
>>> result = import_reference("latest_net_G.pth", "runs/facades", direction="BtoA")  # doctest: +SKIP
>>> result = import_reference("checkpoints/facades_pix2pix", "runs/facades", epoch=200)  # doctest: +SKIP
>>> print(result.summary())  # doctest: +SKIP
"""

from __future__ import annotations

import datetime
import logging
import os
import shutil
from pathlib import Path
from typing import NamedTuple

import keras

from tfgan_translate.config import CONFIG_FILENAME, CycleGANConfig, Pix2PixConfig
from tfgan_translate.io import staged_folder, write_json
from tfgan_translate.reference.cut_loader import build_cut, is_cut_source
from tfgan_translate.reference.loader import build
from tfgan_translate.temporaries import temporary_path
from tfgan_translate.training.checkpoints import LATEST, save_model_atomic

log = logging.getLogger("tfgan_translate")

IMPORTED_FILENAME = "imported.json"
FORMAT = "tfgan_translate.imported/1"
# What an import writes into the run folder (with overwrite=True only these are replaced; config.json last).
RUN_FILES = (f"checkpoints/{LATEST}", IMPORTED_FILENAME, CONFIG_FILENAME)


class ImportResult(NamedTuple):
    """What an import wrote: the run folder, its config and model, the provenance and the notes.

    Attributes:
        run_dir: Path. The run folder.
        config: Pix2PixConfig or CycleGANConfig. What `config.json` holds.
        model: keras.Model. The compiled Pix2Pix / CycleGAN saved as `checkpoints/latest.keras`.
        provenance: dict. What `imported.json` holds.
        notes: tuple of str. What the import approximated, dropped or renamed (also logged).
    """

    run_dir: Path
    config: Pix2PixConfig | CycleGANConfig
    model: keras.Model
    provenance: dict
    notes: tuple = ()

    def summary(self) -> str:
        """Lines for the command line: the folder, each network and where its weights came from, the notes."""
        lines = [f"Run folder: {self.run_dir} ({type(self.config).__name__}, netG {self.config.netG})"]
        for attr, entry in self.provenance["networks"].items():
            source = entry["source"] or "freshly initialised"
            name = f" <- the reference's {entry['reference_name']}" if entry["reference_name"] else ""
            lines.append(f"  {attr}{name}: {source}")
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


# === Writing the run folder ===


def check_out_dir(out_dir: str | os.PathLike, overwrite: bool = False) -> list[str]:
    """Refuses an `out_dir` that is a file, or a folder that holds anything unless `overwrite`.

    Args:
        out_dir: str or path-like. The run folder an import would write.
        overwrite: bool. Accept a non-empty folder. Defaults to False.

    Returns:
        The names of what the folder holds (empty for a new or empty folder).

    Raises:
        FileExistsError: `out_dir` holds something and `overwrite` is False, or is a file.

    Example:

    >>> check_out_dir("runs/new_import")
    []
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise FileExistsError(f"Invalid value for argument `out_dir`. Received: out_dir={str(out_dir)!r}, a file. "
                              "Expected a new or empty folder.")
    entries = sorted(p.name for p in out_dir.iterdir()) if out_dir.is_dir() else []
    if entries and not overwrite:
        shown = ", ".join(entries[:6]) + (f", ... ({len(entries)} entries)" if len(entries) > 6 else "")
        raise FileExistsError(f"Invalid value for argument `out_dir`. Received: out_dir={str(out_dir)!r}, which "
                              f"already holds {shown}. Expected a new or empty folder; overwrite=True (--overwrite) "
                              f"replaces {', '.join(RUN_FILES)} there and deletes nothing else.")
    return entries


def _write_run(out_dir: Path, config, model: keras.Model, provenance: dict, overwrite: bool) -> None:
    """Writes the run's files into a staging folder, then moves them into `out_dir`."""
    existing = check_out_dir(out_dir, overwrite)
    kept = [name for name in existing if name not in {rel.split("/")[0] for rel in RUN_FILES}]
    if kept:
        log.warning("overwrite: %s keeps what the import does not write: %s.", out_dir, ", ".join(kept))
    # A new or empty folder is staged whole; a non-empty one (overwrite=True) beside it, then only the import's
    # own files are replaced.
    staged = temporary_path(out_dir.with_name(f"{out_dir.name}.import")) if existing else out_dir
    with staged_folder(staged) as staging:
        save_model_atomic(model, staging / "checkpoints" / LATEST)
        write_json(staging / IMPORTED_FILENAME, provenance)
        config.save(staging)
    if existing:
        try:
            for rel in RUN_FILES:
                (out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
                os.replace(staged / rel, out_dir / rel)
        finally:
            shutil.rmtree(staged, ignore_errors=True)


def import_reference(source, out_dir, *, overwrite: bool = False, **kwargs) -> ImportResult:
    """Writes a run folder from the reference's files (`tfgan-translate import`).

    Args:
        source: str or path-like. A preset name (`presets.preset_names()`), a `.pth` file (a pix2pix-style run:
            the generator and a fresh discriminator, or `discriminator=PATH_D.pth`), or a reference
            `checkpoints/NAME/` folder (every network of one epoch, the options mapped onto the config).
        out_dir: str or path-like. The run folder to write: new or empty (see `overwrite`).
        overwrite: bool. Write into a non-empty `out_dir`: replaces config.json, imported.json and
            checkpoints/latest.keras there, deletes nothing else. Defaults to False.
        **kwargs: `loader.build`'s arguments: model, epoch, cache_dir, discriminator and config fields, e.g.
            `data="datasets/facades", epochs=20` to fine-tune with `train --resume`; with a `.pth` file also the
            architecture (netG, norm, ngf, input_channels, output_channels), which its tensors give otherwise.

    Returns:
        An `ImportResult`; its `summary()` lists each network and where its weights came from.

    Raises:
        FileExistsError: `out_dir` holds something and `overwrite` is False (checked before any download).
        CheckpointError: a file cannot be read or does not fit the arguments (the mapping lists what differs);
            nothing is written.
        DownloadError: a preset's file cannot be downloaded (one line: the address, and how to pass a file).
        FileNotFoundError, ValueError: a folder without checkpoints or options, an unknown name, a bad argument.

    Example:

    >>> result = import_reference("pix2pix_facades_label2photo", "runs/facades")  # doctest: +SKIP
    >>> result.config.direction  # doctest: +SKIP
    'BtoA'
    """
    from tfgan_translate import __version__
    from tfgan_translate.training.precision import precision_scope
    from tfgan_translate.training.run import build_model, compile_model

    def float32_model(config):  # the reference's precision; a resumed run keeps its checkpoint's
        with precision_scope("float32"):
            return build_model(config)

    check_out_dir(out_dir, overwrite)
    builder = build_cut if is_cut_source(source) else build  # the CUT authors' run or preset, or the reference's
    config, model, networks, notes, kind, extra = builder(source, float32_model, **kwargs)
    # train's Adam, fresh; the schedule's epoch length is a placeholder that `train --resume` sets
    compile_model(model, config, config.steps_per_epoch or 1, policy="float32")
    notes = [*notes, "Optimizer state: fresh Adam moments (the reference saves none); the step counter is 0, so "
                     "a resumed run starts the learning-rate schedule at epoch 1."]
    created = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    provenance = {"format": FORMAT, "kind": kind, "created": created, "package_version": __version__,
                  "config_class": type(config).__name__, **extra, "networks": networks, "optimizer_state": "fresh",
                  "steps_run": 0, "notes": notes}
    out_dir = Path(out_dir)
    _write_run(out_dir, config, model, provenance, overwrite)
    for note in notes:
        log.info("import: %s", note)
    log.info("Imported into %s.", out_dir)
    return ImportResult(run_dir=out_dir, config=config, model=model, provenance=provenance, notes=tuple(notes))

