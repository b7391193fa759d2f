"""Reading a run's config back (`load_config`), the config a `train` request describes (`requested_config`),
and what a resumed run may change (`RESUMABLE_CHANGES`, `check_resumable`).

The config classes are in `config.py`; these names are importable from there too.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from pathlib import Path

from tfgan_translate.config import CONFIG_CLASSES, CONFIG_FILENAME
from tfgan_translate.options import flag_name, unwrap_optional

# Fields a resumed run may change: how long it trains, where and how it runs, what it logs, how it runs at test time.
RESUMABLE_CHANGES = frozenset({
    "epochs", "validation_steps", "sample_count", "log_every", "sample_every", "checkpoint_every",
    "keep_checkpoints", "strategy", "precision", "jit", "winograd", "test_dropout", "test_batch_norm",
})


def check_resumable(saved, requested) -> None:
    """Raises ValueError if `requested` changes a field of `saved` that a resumed run must keep.

    Besides `RESUMABLE_CHANGES`, a run saved without data (`data=""`, as `tfgan_translate.reference` imports
    write) may be given its data: fine-tuning an imported generator is resuming its run.

    >>> from tfgan_translate.config import Pix2PixConfig
    >>> saved = Pix2PixConfig(data="")
    >>> check_resumable(saved, saved.replace(data="data/facades", epochs=5))  # an import, fine-tuned
    >>> check_resumable(saved.replace(data="a"), saved.replace(data="b"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: Cannot resume with a different configuration (data: 'a' -> 'b'). ...
    """
    if type(saved) is not type(requested):
        raise ValueError(f"Cannot resume a {saved.model} run as {requested.model}.")
    free = RESUMABLE_CHANGES | ({"data"} if not saved.data else set())
    changed = [f.name for f in dataclasses.fields(saved)
               if f.name not in free and getattr(saved, f.name) != getattr(requested, f.name)]
    if changed:
        details = ", ".join(f"{n}: {getattr(saved, n)!r} -> {getattr(requested, n)!r}" for n in changed)
        raise ValueError(f"Cannot resume with a different configuration ({details}). A resumed run may only change "
                         f"{sorted(RESUMABLE_CHANGES)} (and `data` if it has none); start a new run folder for other "
                         "changes.")


# A field's type (for a tuple, its origin) -> (the JSON values it takes, those in words).
_JSON_TYPES = {bool: ((bool,), "true or false"), int: ((int,), "an integer"), float: ((int, float), "a number"),
               str: ((str,), "a string"), tuple: ((list,), "an array")}


def _json_type(value) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


def _check_json_types(config_cls, values: dict, path: Path) -> None:
    """Refuses a config.json value of the wrong JSON type ("epochs": "ten", "flip": "yes"), naming the file."""
    hints = typing.get_type_hints(config_cls)
    for name, value in values.items():
        annotation, optional = unwrap_optional(hints.get(name))
        found = _JSON_TYPES.get(typing.get_origin(annotation) or annotation)
        if found is None or (value is None and optional):
            continue  # an unknown field (`from_dict` names it), a Literal (its choices are checked on construction)
        allowed, expected = found
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            raise ValueError(f"Invalid run config {path}: field `{name}`. Received: {name}={value!r} (a JSON "
                             f"{_json_type(value)}). Expected {expected}{' or null' if optional else ''}.")


def load_config(run_dir: str | Path):
    """Reads `run_dir/config.json` into the config class of the model it names.

    Args:
        run_dir: str or Path. A run folder (written by `train` or `import`).

    Returns:
        Pix2PixConfig, CycleGANConfig or CUTConfig.

    Raises:
        FileNotFoundError: there is no `run_dir/config.json`.
        ValueError: config.json is not valid UTF-8 JSON, not a JSON object, names an unknown model, or has
            an unknown field or a value of the wrong type or range; the message names the file.
        OSError: the file cannot be read (e.g. PermissionError).

    Example:

    >>> load_config("runs/facades").netG  # doctest: +SKIP
    'unet_256'
    """
    path = Path(run_dir) / CONFIG_FILENAME
    if not path.is_file():
        raise FileNotFoundError(f"No run config at {path}: is {run_dir} a tfgan-translate run folder?")
    try:
        values = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as error:
        raise ValueError(f"Invalid run config {path}: not UTF-8 text (byte {error.start}). Expected the JSON "
                         "object tfgan-translate writes.") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"Invalid run config {path}: not valid JSON ({error.msg} at line {error.lineno}, "
                         f"column {error.colno}). Expected the JSON object tfgan-translate writes.") from None
    if not isinstance(values, dict):
        raise ValueError(f"Invalid run config {path}: received a JSON {_json_type(values)}. Expected a JSON "
                         "object of config fields.")
    model = values.get("model")
    if not isinstance(model, str) or model not in CONFIG_CLASSES:
        raise ValueError(f"Invalid run config {path}: unknown model. Received: model={model!r}. "
                         f"Expected one of {sorted(CONFIG_CLASSES)}.")
    _check_json_types(CONFIG_CLASSES[model], values, path)
    try:
        return CONFIG_CLASSES[model].from_dict(values)
    except (TypeError, ValueError) as error:
        raise ValueError(f"Invalid run config {path}: {error}") from None


def requested_config(config_cls, changes: dict, *, run_dir: str | Path | None = None, resume: bool = False,
                     n_epochs: int | None = None):
    """The config a `train` request describes: defaults (or, resuming, the run's saved config) with `changes`.

    Args:
        config_cls: `Pix2PixConfig`, `CycleGANConfig` or `CUTConfig`.
        changes: dict. The fields given (e.g. by flags); the others keep their default or saved value.
        run_dir: str, Path or None. The run folder; with `resume`, its config.json is the base when present.
        resume: bool. Start from the saved config of `run_dir`. Defaults to False.
        n_epochs: int or None. The reference's way to give the length: `n_epochs` at the initial rate,
            then `changes["n_epochs_decay"]` (default: `config_cls.default_decay`, as many for pix2pix and
            CycleGAN, CUT's mode's 200 or 50) decaying; instead of `epochs`.

    Returns:
        A config of class `config_cls`.

    Raises:
        ValueError: a required field (`data`) is missing without a run to resume, the saved run is of
            another model, both `epochs` and `n_epochs` are given, or a value is invalid.

    Example:

    >>> from tfgan_translate.config import Pix2PixConfig
    >>> requested_config(Pix2PixConfig, {"data": "synth", "n_epochs_decay": 0}, n_epochs=1).epochs
    1
    """
    changes = dict(changes)
    base = None
    if resume and run_dir is not None and (Path(run_dir) / CONFIG_FILENAME).is_file():
        base = load_config(run_dir)
        if not isinstance(base, config_cls):
            raise ValueError(f"--resume: {run_dir} holds a {base.model} run, not {config_cls.model}.")
    else:
        missing = [flag_name(f) for f in dataclasses.fields(config_cls)
                   if f.metadata.get("required") and not changes.get(f.name)]
        if missing:
            raise ValueError(f"the following argument is required: {', '.join(missing)} "
                             "(unless --resume finds a run in --out)")
    if n_epochs is not None:
        if changes.get("epochs") is not None:
            raise ValueError("Pass either --epochs (total) or --n-epochs (constant phase), not both.")
        decay = changes.get("n_epochs_decay")
        if decay is None:
            decay = config_cls.default_decay({**(base.to_dict() if base else {}), **changes}, n_epochs)
        changes.update(epochs=n_epochs + decay, n_epochs_decay=decay)
    return base.replace(**changes) if base is not None else config_cls(**changes)
