"""An imported run folder: assembling a model around the reference's networks, and writing it safely.

What `import_generator`, `import_pretrained` and `import_reference_run` share. A run folder written here
reads like one `train` wrote::

    OUT/
      config.json               the Pix2PixConfig / CycleGANConfig
      checkpoints/latest.keras  the model, compiled with this package's optimizers (fresh state, step 0)
      imported.json             provenance: each file's path or address, size, SHA-256, the architecture
                                read from it (`infer_architecture`), the reference's name of each network,
                                the date and this package's version

Everything is written into a staging folder first (`io.staged_folder`), so a failure leaves no half-written
run; a folder that already holds anything is refused unless `overwrite=True`, which replaces only the
files above and deletes nothing.

The reference's names (its `models/pix2pix_model.py` and `models/cycle_gan_model.py`) map onto this
package's as `NAMING` says: pix2pix's G and D are `generator` and `discriminator`; CycleGAN's G_A (A -> B,
the paper's G) is `generator_g`, G_B (B -> A, the paper's F) `generator_f`, D_A, which judges B images
(real B against fake_B = G_A(A); the paper's D_Y), is `discriminator_b`, and D_B `discriminator_a`.

Example:

>>> check_out_dir("runs/not_there_yet")
[]
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import hashlib
import logging
import os
import shutil
import uuid
from pathlib import Path

import keras

from tfgan_translate.config import CONFIG_FILENAME, CycleGANConfig, Pix2PixConfig
from tfgan_translate.io import TMP_MARK, staged_folder, write_json
from tfgan_translate.reference.mapping import (
    assign_discriminator_weights,
    assign_generator_weights,
    check_state_dict,
    infer_architecture,
)
from tfgan_translate.reference.pth import CheckpointError, read_state_dict
from tfgan_translate.training.checkpoints import LATEST, save_model_atomic

log = logging.getLogger("tfgan_translate")

IMPORTED_FILENAME = "imported.json"
FORMAT = "tfgan_translate.imported/1"
# What an import writes into the run folder (with overwrite=True only these are replaced; config.json last).
RUN_FILES = (f"checkpoints/{LATEST}", IMPORTED_FILENAME, CONFIG_FILENAME)

# Per model: this package's network (model attribute) -> (the reference's name, what it is there).
NAMING = {
    "pix2pix": {"generator": ("G", "netG, saved as <epoch>_net_G.pth: A -> B"),
                "discriminator": ("D", "netD, saved as <epoch>_net_D.pth: judges (A, B) pairs")},
    "cyclegan": {"generator_g": ("G_A", "netG_A, the paper's G: A -> B"),
                 "generator_f": ("G_B", "netG_B, the paper's F: B -> A"),
                 "discriminator_b": ("D_A", "netD_A, the paper's D_Y: judges B images (real B, fake_B = G_A(A))"),
                 "discriminator_a": ("D_B", "netD_B, the paper's D_X: judges A images (real A, fake_A = G_B(B))")},
}


@dataclasses.dataclass(frozen=True)
class ImportResult:
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


# === Reading and assigning ===


def _read(source) -> tuple[dict, str, dict | None]:
    """(state dict, its name for errors, its file record or None) of a path or a state dict."""
    if isinstance(source, dict):
        return source, "the state dict", None
    if not isinstance(source, (str, os.PathLike)):
        raise ValueError(f"Invalid value for argument `source`. Received: source of type {type(source).__name__}. "
                         "Expected a path to a .pth file or a dict of arrays.")
    path = Path(source)
    state = read_state_dict(path)
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    record = {"path": str(path.resolve()), "size": path.stat().st_size, "sha256": digest.hexdigest()}
    return state, repr(os.fspath(path)), record


def _resolve_dropout(fields: dict, state: dict, config_class) -> dict:
    """`fields` with dropout set: as given, else what a ResNet file shows, else the config's default (0.5 for
    pix2pix: U-Net files cannot tell)."""
    if fields.get("dropout") is not None:
        return fields
    dropout = config_class.dropout
    if str(fields.get("netG", config_class.netG)).startswith("resnet_"):
        with contextlib.suppress(CheckpointError):  # the mapping's check names the problem
            dropout = 0.5 if infer_architecture(state).dropout else 0.0
    return {**fields, "dropout": dropout}


def _network_args(config, attr: str) -> dict:
    """The loader arguments that network `attr` of the model `config` describes (for the mapping's errors)."""
    c_in, c_out = config.input_channels, config.output_channels
    if attr.startswith("generator"):
        if attr == "generator_f":
            c_in, c_out = c_out, c_in
        return {"netG": config.netG, "norm": config.norm, "ngf": config.ngf, "input_channels": c_in,
                "output_channels": c_out, "dropout": config.dropout}
    if attr == "discriminator":  # pix2pix: D sees (condition, image)
        channels, condition = c_out, (c_in if config.conditional else 0)
    else:
        channels, condition = (c_in if attr == "discriminator_a" else c_out), 0
    return {"netD": config.netD, "n_layers_D": config.n_layers_D, "norm": config.norm, "ndf": config.ndf,
            "input_channels": channels, "condition_channels": condition}


def _assemble(config, sources: dict, *, urls: dict | None = None) -> tuple[keras.Model, dict]:
    """The model `config` describes (float32, uncompiled) with the networks of `sources` imported.

    Args:
        config: Pix2PixConfig or CycleGANConfig.
        sources: dict. Model attribute ("generator", "discriminator_b", ...) -> (state dict, name, file
            record) from `_read`; the model's other networks keep their fresh initialisation.
        urls: dict or None. Model attribute -> the address a file was downloaded from.

    Returns:
        (model, the provenance of each network by model attribute).
    """
    from tfgan_translate.training.precision import precision_scope
    from tfgan_translate.training.run import build_model

    for attr, (state, name, _) in sources.items():  # the files' shapes against the options, before building
        check_state_dict(state, _network_args(config, attr), name)
    with precision_scope("float32"):
        model = build_model(config)
    networks = {}
    for attr, (reference_name, meaning) in NAMING[config.model].items():
        network = getattr(model, attr)
        if network is None:
            continue
        entry = {"reference_name": None, "reference_meaning": meaning, "source": None, "file": None,
                 "architecture": None, "weights": f"fresh: weights ~ N(0, {config.init_gain})"}
        if attr in sources:
            state, name, record = sources[attr]
            assign = assign_generator_weights if attr.startswith("generator") else assign_discriminator_weights
            assign(network, state, source=name, args=_network_args(config, attr))
            found = infer_architecture(state)
            url = (urls or {}).get(attr)
            entry.update(reference_name=reference_name, source=url or (record or {}).get("path") or name,
                         file=record, weights="imported",
                         architecture={"description": found.describe(), **dataclasses.asdict(found)})
            if url:
                entry["url"] = url
        networks[attr] = entry
    return model, networks


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
        raise FileExistsError(
            f"Invalid value for argument `out_dir`. Received: out_dir={str(out_dir)!r}, which already holds {shown}. "
            f"Expected a new or empty folder; overwrite=True (--overwrite) replaces {', '.join(RUN_FILES)} there "
            "and deletes nothing else."
        )
    return entries


def _write_run(out_dir: Path, config, model: keras.Model, provenance: dict, overwrite: bool) -> None:
    """Writes the run's files into a staging folder, then moves them into `out_dir`."""

    def fill(folder: Path) -> None:
        save_model_atomic(model, folder / "checkpoints" / LATEST)
        write_json(folder / IMPORTED_FILENAME, provenance)
        config.save(folder)

    existing = check_out_dir(out_dir, overwrite)
    if not existing:
        with staged_folder(out_dir) as staging:
            fill(staging)
        return
    # overwrite=True on a non-empty folder: stage beside it, then replace only the import's own files.
    kept = [name for name in existing if name not in {rel.split("/")[0] for rel in RUN_FILES}]
    if kept:
        log.warning("overwrite: %s keeps what the import does not write: %s.", out_dir, ", ".join(kept))
    side = out_dir.with_name(f".{out_dir.name}.import{TMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}")
    with staged_folder(side) as staging:
        fill(staging)
    try:
        for rel in RUN_FILES:
            (out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            os.replace(side / rel, out_dir / rel)
    finally:
        shutil.rmtree(side, ignore_errors=True)


def _finish(config, model: keras.Model, networks: dict, out_dir, *, kind: str, notes: list, overwrite: bool,
            extra: dict | None = None) -> ImportResult:
    """Compiles `model` with this package's optimizers (fresh state, step 0), writes the run, logs the notes."""
    from tfgan_translate import __version__
    from tfgan_translate.training.run import _optimizer

    # The schedule's epoch length is a placeholder: `train(..., resume=True)` sets it from the data.
    steps = config.steps_per_epoch or 1
    model.compile(g_optimizer=_optimizer(config, steps, "float32"),
                  d_optimizer=_optimizer(config, steps, "float32") if model.discriminators else None)
    notes = [*notes, "Optimizer state: fresh Adam moments (the reference saves none); the step counter is 0, so "
                     "a resumed run starts the learning-rate schedule at epoch 1."]
    provenance = {
        "format": FORMAT,
        "kind": kind,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "package_version": __version__,
        "config_class": type(config).__name__,
        **(extra or {}),
        "networks": networks,
        "optimizer_state": "fresh",
        "steps_run": 0,
        "notes": notes,
    }
    out_dir = Path(out_dir)
    _write_run(out_dir, config, model, provenance, overwrite)
    for note in notes:
        log.info("import: %s", note)
    log.info("Imported into %s.", out_dir)
    return ImportResult(run_dir=out_dir, config=config, model=model, provenance=provenance, notes=tuple(notes))


__all__ = ["FORMAT", "IMPORTED_FILENAME", "NAMING", "RUN_FILES", "ImportResult", "check_out_dir"]
