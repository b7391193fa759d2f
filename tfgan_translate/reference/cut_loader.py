"""The CUT authors' checkpoints as a `CUT` of this package: a run folder, or a pretrained preset.

A preset (`presets.preset_names("cut")`, e.g. "horse2zebra_fastcut") is their published generator: it becomes
the `CUT` of its mode (the name's suffix, their `CUT_mode`) with that generator and a fresh discriminator and
projection heads, as the reference's presets become a Pix2Pix or CycleGAN (`build_cut_preset`).

The folder holds `<epoch>_net_G.pth`, `<epoch>_net_D.pth`, `<epoch>_net_F.pth` (PatchSampleF, present once the
run trained) and `train_opt.txt`; the options map onto `CUTConfig` (`cut_options.cut_options_to_config_fields`),
each file onto its network (`cut_mapping.assign_cut_weights`: G, D and F). `importer.import_reference` writes
the result as a run folder that `train --resume` continues.

Example:

>>> built = build_cut_folder("checkpoints/horse2zebra_cut", cut_from_config)  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from tfgan_translate.config import CUTConfig
from tfgan_translate.reference.cut_mapping import assign_cut_weights
from tfgan_translate.reference.cut_options import cut_options_to_config_fields
from tfgan_translate.reference.loader import Built, _fetched, _read, _refuse_architecture
from tfgan_translate.reference.options import OPTION_FILENAMES, find_checkpoints, read_options
from tfgan_translate.reference.presets import PRESETS, get_preset, preset_names

# model attribute -> (the authors' network name, what it is)
CUT_NAMING = {"generator": ("G", "the generator A -> B"), "discriminator": ("D", "the discriminator of B"),
              "projection": ("F", "PatchSampleF, the projection MLPs")}


def is_cut_folder(source) -> bool:
    """Whether `source` is a folder whose options file says `model: cut`."""
    if isinstance(source, dict) or not Path(source).is_dir():
        return False
    options_file = next((Path(source) / n for n in OPTION_FILENAMES if (Path(source) / n).is_file()), None)
    return options_file is not None and read_options(options_file).get("model") == "cut"


def is_cut_source(source) -> bool:
    """Whether `source` is a CUT authors' run folder or the name of one of their pretrained generators."""
    return is_cut_folder(source) or (isinstance(source, str) and source in preset_names("cut"))


def build_cut(source, builder, **kwargs) -> Built:
    """`build_cut_preset` for a preset name, else `build_cut_folder`."""
    return (build_cut_preset if isinstance(source, str) and source in PRESETS else build_cut_folder)(
        source, builder, **kwargs)


def build_cut_preset(name: str, builder, *, cache_dir=None, model: str | None = None, epoch="latest",
                     **fields) -> Built:
    """An uncompiled `CUT` around one of the CUT authors' pretrained generators (downloaded once), with a fresh
    discriminator and projection heads; `fields` are other CUTConfig fields (data, epochs, ...). `epoch` is a
    folder's argument: a preset has one file."""
    preset = get_preset(name)
    if preset.family != "cut" or model not in (None, "cut"):
        raise ValueError(f"Invalid value for argument `preset`. Received: preset={name!r}. Expected one of the CUT "
                         f"authors' generators, {preset_names('cut')}.")
    _refuse_architecture(fields, f"the preset {name!r}")
    mode = "fastcut" if preset.reference_name.endswith("_fastcut") else "cut"  # the authors' CUT_mode
    config = CUTConfig(**{"data": "", "mode": mode, "direction": preset.direction, **preset.architecture, **fields})
    state, source, record = _fetched(preset, cache_dir)
    built = builder(config)
    assign_cut_weights(built.generator, state, source=source)
    networks = {"generator": {"reference_name": "G", "reference_meaning": CUT_NAMING["generator"][1],
                              "source": f"{preset.url} ({preset.member})", "url": preset.url,
                              "member": preset.member, "file": record,
                              "weights": "imported"}}
    notes = [f"{attr}: not published by the authors; freshly initialised, fine-tuning trains it from scratch."
             for attr in ("discriminator", "projection") if getattr(built, attr) is not None]
    extra = {"pretrained": {key: getattr(preset, key) for key in ("name", "family", "reference_name", "dataset",
                                                                  "description", "url", "member")}}
    return Built(config, built, networks, notes, "pretrained", extra)


def build_cut_folder(folder, builder, *, epoch: str | int = "latest", model: str | None = None, **fields) -> Built:
    """An uncompiled `CUT` from a CUT authors' run folder, every network of one epoch imported.

    Args:
        folder: str or path-like. The run folder.
        builder: callable. Makes the model a config describes (`training.run.build_model`).
        epoch: str or int. Which epoch ("latest", a number). Defaults to "latest".
        model: None or "cut". Defaults to None.
        **fields: CUTConfig fields beside the options' (e.g. `data=...`).

    Returns:
        A `loader.Built`.

    Raises:
        CheckpointError: a file does not fit the options (each differing tensor listed), or a `filt` buffer is
            not the fixed filter.
        FileNotFoundError: no generator file for the epoch.
    """
    folder = Path(folder)
    if model not in (None, "cut"):
        raise ValueError(f"Invalid value for argument `model`. Received: model={model!r}. {folder} is a CUT run.")
    found = find_checkpoints(folder, epoch)
    options = read_options(found.options_file)
    mapped = cut_options_to_config_fields(options)
    config = CUTConfig(**{"data": "", **{k: v for k, v in mapped.fields.items() if v is not None}, **fields})
    built = builder(config)
    networks, notes = {}, []
    for attr, (role, meaning) in CUT_NAMING.items():
        network, path = getattr(built, attr), folder / f"{found.epoch}_net_{role}.pth"
        if network is None:
            continue
        entry = networks[attr] = {"reference_name": None, "reference_meaning": meaning, "source": None,
                                  "file": None, "weights": "fresh"}
        if not path.is_file():
            notes.append(f"{attr}: no {found.epoch}_net_{role}.pth in {folder}; freshly initialised.")
            continue
        state, name, record = _read(path)
        assign_cut_weights(network, state, source=name)
        entry.update(reference_name=role, source=record["path"], file=record, weights="imported")
        notes.append(f"The authors' {role} ({meaning}) -> {attr}.")
    notes += list(mapped.notes)
    extra = {"reference_run": {"folder": str(folder.resolve()), "epoch": found.epoch, "layout": "cut",
                               "options_file": str(found.options_file.resolve()), "options": options}}
    return Built(config, built, networks, notes, "reference_run", extra)


__all__ = ["CUT_NAMING", "build_cut", "build_cut_folder", "build_cut_preset", "is_cut_folder", "is_cut_source"]
