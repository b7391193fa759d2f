"""Checkpoints from before the networks were Keras classes (tfgan_translate 0.1), in today's layout.

Those `.keras` files saved each network as a plain functional model, which loads but cannot tell its
geometry. The weights are stored by the order of layers and variables, which the network classes keep,
so the upgrade builds the model that the run's config describes, compiles it with the file's own
optimizers and loads every variable (networks, optimizer moments, step counters, image pools) from the
file. `load_run` and `train(..., resume=True)` do this on their own for a run folder; a lone file is
converted with one call:

>>> upgrade_checkpoint("old/latest.keras", "old")  # doctest: +SKIP
PosixPath('old/latest.keras')
"""

from __future__ import annotations

import json
import logging
import zipfile
from pathlib import Path

import keras

from tfgan_translate.config import CONFIG_FILENAME, load_config
from tfgan_translate.models.base import LegacyCheckpointError

log = logging.getLogger("tfgan_translate")

_MIXED = ("mixed_bfloat16", "mixed_float16")


def _saved_config(checkpoint: Path) -> dict:
    try:
        with zipfile.ZipFile(checkpoint) as archive:
            return json.loads(archive.read("config.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise ValueError(f"Invalid checkpoint {checkpoint}: not a readable .keras file ({error}).") from None


def _precision(saved: dict) -> str:
    """The dtype policy the file's networks were built under (float32 unless a mixed policy appears)."""
    text = json.dumps(saved.get("config", {}))
    return next((policy for policy in _MIXED if f'"{policy}"' in text), "float32")


def load_legacy(checkpoint: str | Path, config) -> keras.Model:
    """The model of a tfgan_translate 0.1 checkpoint, rebuilt from `config` with every variable loaded.

    Args:
        checkpoint: str or Path. The old `.keras` file.
        config: Pix2PixConfig or CycleGANConfig of the run that wrote it.
    """
    from tfgan_translate.training.precision import precision_scope
    from tfgan_translate.training.run import build_model

    checkpoint = Path(checkpoint)
    saved = _saved_config(checkpoint)
    with precision_scope(_precision(saved)):
        model = build_model(config)
    if saved.get("compile_config"):
        model.compile_from_config(saved["compile_config"])
    model.load_weights(checkpoint)
    return model


def upgrade_checkpoint(checkpoint: str | Path, config, out: str | Path | None = None) -> Path:
    """Rewrites a tfgan_translate 0.1 `.keras` checkpoint in today's layout (networks as Keras classes).

    Args:
        checkpoint: str or Path. The old `.keras` file.
        config: a run folder, its config.json, or a Pix2PixConfig / CycleGANConfig: how the run was made.
        out: str, Path or None. Where to write the upgraded file; None replaces `checkpoint` (atomically).

    Returns:
        The path written.
    """
    from tfgan_translate.training.checkpoints import save_model_atomic

    if isinstance(config, (str, Path)):
        folder = Path(config)
        config = load_config(folder.parent if folder.name == CONFIG_FILENAME else folder)
    model = load_legacy(checkpoint, config)
    return save_model_atomic(model, Path(out) if out is not None else Path(checkpoint))


def load_checkpoint(checkpoint: str | Path, config=None) -> keras.Model:
    """`keras.saving.load_model(checkpoint)`, upgrading a 0.1 checkpoint in memory when `config` is known."""
    try:
        return keras.saving.load_model(checkpoint)
    except LegacyCheckpointError:
        if config is None:
            raise
        log.info("%s predates the network classes (tfgan_translate 0.1): upgraded in memory from the run's config; "
                 "upgrade_checkpoint() rewrites it.", checkpoint)
        return load_legacy(checkpoint, config)


__all__ = ["load_checkpoint", "load_legacy", "upgrade_checkpoint"]
