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
import dataclasses
import math
import re
import typing
from pathlib import Path
from typing import Any, NamedTuple

from tfgan_translate.config import CONFIG_CLASSES, parse_generator_name

# Option files a run folder may hold, in the order they are preferred (training options first).
OPTION_FILENAMES = ("train_opt.txt", "opt.txt", "test_opt.txt")

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

# Old option names (the reference before its 2018-2019 renames) -> current ones.
LEGACY_OPTION_NAMES = {
    "which_model_netG": "netG", "which_model_netD": "netD", "which_direction": "direction", "loadSize": "load_size",
    "fineSize": "crop_size", "batchSize": "batch_size", "resize_or_crop": "preprocess", "niter": "n_epochs",
    "niter_decay": "n_epochs_decay", "which_epoch": "epoch", "nThreads": "num_threads", "identity": "lambda_identity",
}

# Options about where and how the reference ran (devices, logging, saving, testing), not about the model:
# dropped silently.
_BOOKKEEPING = frozenset({
    "name", "gpu_ids", "checkpoints_dir", "serial_batches", "num_threads", "display_winsize", "epoch", "load_iter",
    "verbose", "suffix", "display_freq", "display_ncols", "display_id", "display_server", "display_env",
    "display_port", "display_single_pane_ncols", "update_html_freq", "print_freq", "no_html", "save_latest_freq",
    "save_epoch_freq", "save_by_iter", "continue_train", "phase", "isTrain", "use_wandb", "wandb_project_name",
    "results_dir", "aspect_ratio", "eval", "num_test", "how_many", "ntest", "model_suffix", "lr_decay_iters",
    "use_sigmoid",
})

# Options `options_to_config_fields` reads (mapped, approximated or reported in a note).
_MAPPED = frozenset({
    "model", "dataroot", "direction", "netG", "netD", "n_layers_D", "ngf", "ndf", "init_gain", "input_nc", "output_nc",
    "load_size", "crop_size", "preprocess", "no_flip", "batch_size", "lr", "beta1", "gan_mode", "no_lsgan",
    "no_dropout", "norm", "n_epochs", "n_epochs_decay", "lambda_L1", "pool_size", "lambda_A", "lambda_B",
    "lambda_identity", "dataset_mode", "init_type", "lr_policy", "epoch_count", "max_dataset_size",
})

# The reference's model names -> this package's (`CONFIG_CLASSES` keys).
_MODELS = {"pix2pix": "pix2pix", "cycle_gan": "cyclegan", "cyclegan": "cyclegan", "colorization": "pix2pix"}

# Networks each layout of checkpoint files holds, generators first.
NETWORK_ROLES = {"pix2pix": ("G", "D"), "cyclegan": ("G_A", "G_B", "D_A", "D_B"), "single": ("G",)}
_CHECKPOINT = re.compile(r"^(?P<epoch>.+?)_net_(?P<role>G_A|G_B|D_A|D_B|G|D)\.pth$")


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


class MappedOptions(NamedTuple):
    """What `options_to_config_fields` returns (a tuple: `config_class, fields, notes = ...`)."""

    config_class: str  # "Pix2PixConfig" or "CycleGANConfig" (a class of tfgan_translate.config)
    fields: dict  # config field -> value, ready for `Pix2PixConfig(**fields)` / `CycleGANConfig(**fields)`
    notes: list  # one sentence per option that was dropped or approximated


def _literal_choices(cls, field: str) -> tuple | None:
    hint = typing.get_type_hints(cls).get(field)
    return typing.get_args(hint) if typing.get_origin(hint) is typing.Literal else None


def options_to_config_fields(options: dict[str, Any], *, model: str | None = None) -> MappedOptions:
    """Maps a reference run's options onto this package's config fields.

    The mapping (reference option -> config field):

    - model: pix2pix / colorization -> `Pix2PixConfig`, cycle_gan -> `CycleGANConfig`;
    - netG, netD, n_layers_D, ngf, ndf, norm (sync_batch -> batch + sync_batch_norm), init_gain,
      gan_mode (old files: no_lsgan), direction -> the same names;
    - no_dropout -> dropout (0.0, else the reference's fixed 0.5);
    - input_nc / output_nc -> input_channels / output_channels;
    - load_size / crop_size -> load_size / image_size; preprocess; no_flip -> flip = not no_flip;
    - lambda_L1 (in old pix2pix runs lambda_A) -> lambda_l1 (0 -> objective "cgan"); lambda_identity
      (old files: identity); pool_size;
    - lambda_A / lambda_B -> lambda_cycle: equal weights map exactly; different ones become their mean
      (this package weighs both cycle terms, and both identity terms, by one value) and a note says so;
    - lr, beta1 -> lr, beta_1 (the reference's beta2 is fixed at 0.999, this package's default);
    - n_epochs + n_epochs_decay -> epochs (their sum) and n_epochs_decay; batch_size; dataroot -> data.

    What has no equivalent is dropped with a note: init_type other than normal, lr_policy other than
    linear, a resumed run's epoch_count, a finite max_dataset_size, a pix2pix image pool, an unexpected
    dataset_mode, values outside this package's choices, and options it does not know. Where the
    options are about devices, logging or saving (gpu_ids, display_*, save_*, ...) they are dropped
    silently. Fields the target config class lacks are dropped with a note too.

    Args:
        options: dict. From `read_options` / `parse_options`; old option names are accepted.
        model: str or None. "pix2pix" or "cyclegan" (or the reference's "cycle_gan") to choose the
            config class; needed for a `test_opt.txt` of `--model test`. Defaults to None: the
            options' `model`.

    Returns:
        A `MappedOptions(config_class, fields, notes)` tuple: the config class name, a dict of its
        fields, and a list of notes on what was dropped or approximated.

    Raises:
        ValueError: the model is missing, `test` without `model=`, or one this package does not have.

    Example:

    >>> mapped = options_to_config_fields({"model": "cycle_gan", "lambda_A": 10.0, "lambda_B": 5.0})
    >>> mapped.config_class, mapped.fields["lambda_cycle"]
    ('CycleGANConfig', 7.5)
    >>> mapped.notes[0][:40]
    'lambda_A=10.0 and lambda_B=5.0 differ: t'
    """
    opts = dict(options)
    for old, new in LEGACY_OPTION_NAMES.items():
        if old in opts:
            opts.setdefault(new, opts.pop(old))  # with both spellings present, the current one wins
    notes: list[str] = []
    fields: dict[str, Any] = {}

    reference_model = opts.get("model")
    chosen = model if model is not None else reference_model
    if chosen is None:
        raise ValueError("Invalid value for argument `options`: no `model` option. Pass model='pix2pix' or 'cyclegan'.")
    if chosen == "test" or chosen not in _MODELS:
        if chosen == "test":
            raise ValueError(
                f"Invalid value for argument `model`. Received: model={model!r} with options of the reference's "
                "`--model test` (a test_opt.txt, which does not say how the generator was trained). Expected "
                "model='pix2pix' or 'cyclegan', or the run's train_opt.txt."
            )
        raise ValueError(
            f"Invalid value for argument `model`. Received: model={chosen!r}. Expected one of "
            f"{sorted(_MODELS)} (the reference's pix2pix, cycle_gan or colorization)."
        )
    package_model = _MODELS[chosen]
    cls = CONFIG_CLASSES[package_model]
    if model is not None and reference_model not in (None, "test") and _MODELS.get(reference_model) != package_model:
        notes.append(f"model={reference_model!r} in the options; mapped onto {cls.__name__} as asked "
                     f"(model={model!r}).")
    if chosen == "colorization":
        notes.append("model=colorization: the reference works in Lab colour space (L in, ab out); this package "
                     "reads RGB or grayscale files, so prepare the data as L and ab images yourself.")

    def take(option: str, field: str, convert=lambda v: v):
        if option in opts:
            fields[field] = convert(opts[option])

    take("dataroot", "data", lambda v: "" if v is None else str(v))
    take("direction", "direction")
    take("netG", "netG")
    take("netD", "netD")
    take("n_layers_D", "n_layers_D")
    take("ngf", "ngf")
    take("ndf", "ndf")
    take("init_gain", "init_gain", float)
    take("input_nc", "input_channels")
    take("output_nc", "output_channels")
    take("load_size", "load_size")
    take("crop_size", "image_size")
    take("preprocess", "preprocess")
    take("no_flip", "flip", lambda v: not v)
    take("batch_size", "batch_size")
    take("lr", "lr", float)
    take("beta1", "beta_1", float)
    take("gan_mode", "gan_mode")
    if "gan_mode" not in opts and "no_lsgan" in opts:
        fields["gan_mode"] = "vanilla" if opts["no_lsgan"] else "lsgan"
    take("no_dropout", "dropout", lambda v: 0.0 if v else 0.5)

    norm = opts.get("norm")
    if norm in ("sync_batch", "sync_instance"):
        fields["norm"] = norm[len("sync_"):]
        if norm == "sync_batch":
            fields["sync_batch_norm"] = True
        else:
            notes.append("norm=sync_instance -> instance: instance norm has no statistics to synchronise.")
    elif norm is not None:
        fields["norm"] = norm

    if "n_epochs" in opts or "n_epochs_decay" in opts:
        constant, decay = opts.get("n_epochs", 100), opts.get("n_epochs_decay", 100)
        fields["epochs"] = int(constant) + int(decay)
        fields["n_epochs_decay"] = int(decay)

    if package_model == "pix2pix":
        if "lambda_L1" not in opts and "lambda_A" in opts:  # before 2018 the reference's pix2pix weighed L1 by it
            opts["lambda_L1"] = opts["lambda_A"]
            notes.append(f"lambda_A={opts['lambda_A']} -> lambda_l1: older reference versions weighed pix2pix's L1 "
                         "term by lambda_A.")
        if "lambda_L1" in opts:
            fields["lambda_l1"] = float(opts["lambda_L1"])
            if fields["lambda_l1"] == 0:
                fields["objective"] = "cgan"
                notes.append("lambda_L1=0: the reference trained with the cGAN loss alone -> objective='cgan'.")
        if opts.get("pool_size"):
            notes.append(f"pool_size={opts['pool_size']} dropped: this package's pix2pix has no image pool.")
    else:
        lambda_a, lambda_b = opts.get("lambda_A"), opts.get("lambda_B")
        if lambda_a is not None or lambda_b is not None:
            a = float(lambda_a if lambda_a is not None else lambda_b)
            b = float(lambda_b if lambda_b is not None else lambda_a)
            fields["lambda_cycle"] = a if a == b else (a + b) / 2
            if a != b:
                notes.append(
                    f"lambda_A={a} and lambda_B={b} differ: this package weighs both cycle terms (and both identity "
                    f"terms) by one lambda_cycle, set to their mean {fields['lambda_cycle']}."
                )
        take("lambda_identity", "lambda_identity", float)
        take("pool_size", "pool_size")

    expected_mode = {"pix2pix": "aligned", "cyclegan": "unaligned"}[package_model]
    if chosen == "colorization":
        expected_mode = "colorization"
    dataset_mode = opts.get("dataset_mode")
    if dataset_mode is not None and dataset_mode != expected_mode:
        notes.append(f"dataset_mode={dataset_mode!r} dropped: {cls.__name__} reads {expected_mode} data.")
    if opts.get("init_type") not in (None, "normal"):
        notes.append(f"init_type={opts['init_type']!r} dropped: this package initialises weights ~ N(0, init_gain) "
                     "(no matter when the weights are imported).")
    if opts.get("lr_policy") not in (None, "linear", "lambda"):
        notes.append(f"lr_policy={opts['lr_policy']!r} dropped: this package keeps lr for the first epochs, then "
                     "decays it linearly to 0 (the reference's 'linear').")
    if opts.get("epoch_count") not in (None, 1):
        notes.append(f"epoch_count={opts['epoch_count']}: the reference run was continued from epoch "
                     f"{opts['epoch_count']}; the config describes the whole schedule from epoch 1.")
    max_size = opts.get("max_dataset_size")
    if isinstance(max_size, (int, float)) and not math.isinf(max_size):
        notes.append(f"max_dataset_size={max_size} dropped: the reference used at most {max_size} images per domain.")

    # Keep only values this package accepts, and fields the config class has.
    if "netG" in fields:
        try:
            parse_generator_name(fields["netG"])
        except ValueError:
            notes.append(f"netG={fields.pop('netG')!r} dropped: this package has no such generator.")
    known = {f.name for f in dataclasses.fields(cls)}
    for field in list(fields):
        if field not in known:
            notes.append(f"{field}={fields.pop(field)!r} dropped: {cls.__name__} has no field {field!r}.")
            continue
        choices = _literal_choices(cls, field)
        if choices is not None and fields[field] not in choices:
            notes.append(f"{field}={fields.pop(field)!r} dropped: {cls.__name__} expects one of {list(choices)}.")

    for option in opts:
        if option not in _MAPPED and option not in _BOOKKEEPING:
            notes.append(f"{option}={opts[option]!r} ignored: not an option this mapping knows.")
    return MappedOptions(cls.__name__, fields, notes)


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
