"""A whole run of the reference as a run folder of this package: `tfgan-translate import REFERENCE_DIR`.

The reference keeps a run in `checkpoints/NAME/`: its options (`train_opt.txt`, `opt.txt` before 2019) and,
per epoch, `<epoch>_net_G.pth` + `<epoch>_net_D.pth` (pix2pix) or `<epoch>_net_G_A.pth`, `_G_B`, `_D_A`,
`_D_B` (CycleGAN). `import_reference_run` imports every network of one epoch under this package's names
(`run_folder.NAMING`: G_A -> generator_g, G_B -> generator_f, D_A -> discriminator_b, D_B ->
discriminator_a), maps the options onto the config (`options_to_config_fields`, each approximation noted)
and writes a run that `train(..., resume=True)` continues from those weights: with fresh optimizer state
(the reference saves none) and the step counter at 0, so the learning-rate schedule starts again at epoch 1.
A folder with one generator only (a `--model test` run) becomes a pix2pix-style run, as with
`import_generator`.

Example:

>>> result = import_reference_run("checkpoints/horse2zebra_cyclegan", "runs/horse2zebra", epoch=200)  # doctest: +SKIP
>>> result.model.generator_g.name  # doctest: +SKIP
'generator_g'
"""

from __future__ import annotations

import os
from pathlib import Path

from tfgan_translate.config import CONFIG_CLASSES
from tfgan_translate.reference.options import find_checkpoints, options_to_config_fields, read_options
from tfgan_translate.reference.run_folder import (
    NAMING,
    ImportResult,
    _assemble,
    _finish,
    _read,
    _resolve_dropout,
    check_out_dir,
)

# The reference's file name role -> this package's model attribute, per layout of the files.
_ATTRIBUTES = {layout: {role: attr for attr, (role, _) in NAMING[layout].items()} for layout in NAMING}
_ATTRIBUTES["single"] = {"G": "generator"}


def import_reference_run(checkpoint_dir: str | os.PathLike, out_dir: str | os.PathLike, *, epoch: str | int = "latest",
                         overwrite: bool = False, config_fields: dict | None = None) -> ImportResult:
    """Imports one epoch of a reference run folder, every network and the options, as a run folder.

    Args:
        checkpoint_dir: str or path-like. The reference's `checkpoints/NAME/` folder, with an options file
            (`train_opt.txt`, `opt.txt` or `test_opt.txt`).
        out_dir: str or path-like. The run folder to write: new or empty (see `overwrite`).
        epoch: str or int. Which files: "latest", an epoch number or "iter_N". Defaults to "latest".
        overwrite: bool. Write into a non-empty `out_dir`: replaces config.json, imported.json and
            checkpoints/latest.keras there, deletes nothing else. Defaults to False.
        config_fields: dict or None. Config fields that replace the mapped options, e.g. `{"data":
            "datasets/horse2zebra"}` (the options' `dataroot` is relative to where the reference ran; a
            resumed run may not change data). Defaults to None.

    Returns:
        An `ImportResult`; its notes (also logged and in imported.json) say how each network was renamed,
        which options were approximated or dropped, and that the optimizers and the schedule start afresh.

    Raises:
        FileNotFoundError: no such folder, no checkpoint files for `epoch` (those found are listed), or no
            options file.
        CheckpointError: a file does not fit the options (the mapping lists what differs).
        FileExistsError: `out_dir` holds something and `overwrite` is False.
        ValueError: the options name another model than the files hold, or an option value is invalid.

    Example:

    >>> result = import_reference_run("checkpoints/facades_pix2pix", "runs/facades")  # doctest: +SKIP
    >>> print(result.summary())  # doctest: +SKIP
    """
    check_out_dir(out_dir, overwrite)
    found = find_checkpoints(checkpoint_dir, epoch)
    folder = Path(checkpoint_dir)
    if found.options_file is None:
        raise FileNotFoundError(
            f"Invalid value for argument `checkpoint_dir`: {folder} has no train_opt.txt, opt.txt or test_opt.txt, "
            "which say how its networks were built. Import its generator with `tfgan-translate import "
            f"{found.files['G' if 'G' in found.files else 'G_A']} --netG ... --norm ...` instead."
        )
    options = read_options(found.options_file)
    family = "cyclegan" if found.layout == "cyclegan" else "pix2pix"
    # A lone generator is a pix2pix-style run; `--model test` options do not say the model: the files do.
    as_model = "pix2pix" if found.layout == "single" else family if options.get("model") in (None, "test") else None
    mapped = options_to_config_fields(options, model=as_model)
    config_class = CONFIG_CLASSES[family]
    if mapped.config_class != config_class.__name__:
        raise ValueError(
            f"{found.options_file} says model={options.get('model')!r}, but {folder} holds {found.layout} files for "
            f"epoch {found.epoch!r} ({', '.join(p.name for p in found.files.values())})."
        )

    sources = {_ATTRIBUTES[found.layout][role]: _read(path) for role, path in found.files.items()}
    first_generator = sources["generator_g" if family == "cyclegan" else "generator"][0]
    fields = _resolve_dropout({**mapped.fields, **(config_fields or {})}, first_generator, config_class)
    config = config_class(**fields)
    model, networks = _assemble(config, sources)

    notes = []
    if found.layout == "single":
        notes.append(f"{folder} holds one generator: a pix2pix-style run with a fresh discriminator (fine-tuning "
                     "trains it on paired data).")
    for attr, entry in networks.items():
        role, meaning = NAMING[config.model][attr]
        if entry["reference_name"]:
            notes.append(f"The reference's {role} ({meaning}) -> {attr}.")
        else:
            notes.append(f"{attr}: no {found.epoch}_net_{role}.pth in {folder}; freshly initialised.")
    notes += list(mapped.notes)
    if "data" in mapped.fields and "data" not in (config_fields or {}):
        notes.append(f"data={config.data!r} is the reference's dataroot, relative to where it ran; pass "
                     "config_fields={'data': ...} to train on it from here (a resumed run may not change data).")
    if str(found.epoch).isdigit():
        notes.append(f"The reference run had reached epoch {found.epoch}; train --resume runs the schedule's epochs "
                     f"1-{config.epochs} again.")
    extra = {"reference_run": {"folder": str(folder.resolve()), "epoch": found.epoch, "layout": found.layout,
                               "options_file": str(found.options_file.resolve()), "options": options}}
    return _finish(config, model, networks, out_dir, kind="reference_run", notes=notes, overwrite=overwrite,
                   extra=extra)


__all__ = ["import_reference_run"]
