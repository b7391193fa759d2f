"""The reference's files as this package's networks and models: what every `from_preset` runs.

A source (`preset`) is one of three things, told apart in this order:

- a folder: one of the reference's runs, `checkpoints/NAME/`, with `<epoch>_net_*.pth` files and (for a model)
  its options file (`train_opt.txt`, `opt.txt` or `test_opt.txt`): every network of one epoch is imported under
  this package's names (`NAMING`), the options mapped onto the config, each approximation noted;
- a file: one network's `.pth`; its architecture is read from its tensors (`infer_architecture`), arguments
  override it (a U-Net's dropout leaves no trace in a file: it takes the reference's default, 0.5);
- a preset name (`tfgan_translate.reference.presets`): the file is downloaded once (`presets.fetch`, with
  `keras.utils.get_file`), the architecture comes from the table.

`load_network(cls, preset)` is `UNetGenerator.from_preset`, `ResNetGenerator.from_preset` and
`PatchGANDiscriminator.from_preset`; `build(preset, builder)` assembles `Pix2Pix.from_preset`,
`CycleGAN.from_preset` and what `importer.import_reference` writes as a run folder. A preset or one file makes a
pix2pix-style model (the generator, a fresh discriminator); as a CycleGAN, a preset's inverse (zebra2horse for
horse2zebra: the same dataset, the other way) becomes `generator_f`. The reference publishes no discriminators.
A CUT authors' generator (a "cut" preset, or a `.pth` with their `filt` buffers) loads through `cut_mapping`; as a
model, `cut_loader` builds it.

This module sits below the networks and models (it gets the class or the model builder from its caller), so
their `from_preset` import it without a cycle. Nothing in a file is run: the reader accepts only tensors.

The reference's names (its `pix2pix_model.py` and `cycle_gan_model.py`) map onto this package's as `NAMING` says:
pix2pix's G and D are `generator` and `discriminator`; CycleGAN's G_A (A -> B, the paper's G) is `generator_g`,
G_B (B -> A, the paper's F) `generator_f`, D_A, which judges B images (the paper's D_Y), `discriminator_b`, and
D_B `discriminator_a`.

Example:

>>> from tfgan_translate import ResNetGenerator
>>> g = ResNetGenerator.from_preset("horse2zebra")  # doctest: +SKIP
>>> g = ResNetGenerator.from_preset("checkpoints/horse2zebra_cyclegan/latest_net_G_A.pth")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
from pathlib import Path
from typing import NamedTuple

from tfgan_translate.choices import PAPER_MODE
from tfgan_translate.config import CONFIG_CLASSES, parse_generator_name
from tfgan_translate.reference.architecture import check_state_dict, infer_architecture
from tfgan_translate.reference.cut_mapping import assign_cut_weights, cut_generator_fields, is_cut_state_dict
from tfgan_translate.reference.layouts import generator_size
from tfgan_translate.reference.mapping import assign_weights
from tfgan_translate.reference.option_mapping import options_to_config_fields
from tfgan_translate.reference.options import find_checkpoints, read_options
from tfgan_translate.reference.presets import PRESETS, DownloadError, fetch, get_preset
from tfgan_translate.reference.pth import CheckpointError, read_state_dict

# Arguments a `.pth` file's tensors decide; a preset's table or a folder's options file sets them.
ARCHITECTURE = ("netG", "norm", "ngf", "input_channels", "output_channels", "depth", "n_blocks")
_FAMILIES = {"UNetGenerator": "unet", "ResNetGenerator": "resnet", "PatchGANDiscriminator": "discriminator"}
# Per model: this package's network (model attribute) -> (the reference's name, what it is there).
NAMING = {
    "pix2pix": {"generator": ("G", "netG, saved as <epoch>_net_G.pth: A -> B"),
                "discriminator": ("D", "netD, saved as <epoch>_net_D.pth: judges (A, B) pairs")},
    "cyclegan": {"generator_g": ("G_A", "netG_A, the paper's G: A -> B"),
                 "generator_f": ("G_B", "netG_B, the paper's F: B -> A"),
                 "discriminator_b": ("D_A", "netD_A, the paper's D_Y: judges B images (real B, fake_B = G_A(A))"),
                 "discriminator_a": ("D_B", "netD_B, the paper's D_X: judges A images (real A, fake_A = G_B(B))")},
}


class Built(NamedTuple):
    """A model built from the reference's files, with what a run folder records about it."""

    config: object  # Pix2PixConfig or CycleGANConfig
    model: object  # uncompiled Pix2Pix or CycleGAN
    networks: dict  # model attribute -> its provenance
    notes: list  # what was approximated, renamed or freshly initialised
    kind: str  # "pretrained", "generator" or "reference_run"
    extra: dict  # more provenance


# === Sources ===


def _kind(source) -> tuple:
    """("folder", None), ("file", None) or ("preset", its `Preset`); an unknown name raises, suggesting the closest
    preset names."""
    if isinstance(source, dict):
        return "file", None
    if not isinstance(source, (str, os.PathLike)):
        raise ValueError(f"Invalid value for argument `preset`. Received: preset of type {type(source).__name__}. "
                         "Expected a preset name, a .pth file or a reference checkpoints/NAME/ folder.")
    if os.path.exists(source):
        return ("folder" if os.path.isdir(source) else "file"), None
    text = os.fspath(source)
    if not isinstance(source, str) or os.sep in text or text.endswith(".pth"):
        raise FileNotFoundError(f"Invalid value for argument `preset`. Received: preset={text!r}, which does not "
                                "exist. Expected a .pth file, a reference checkpoints/NAME/ folder or a preset name.")
    return "preset", get_preset(text)


def _read(source) -> tuple[dict, str, dict | None]:
    """(state dict, its name for errors, its file record or None) of a path or a state dict."""
    if isinstance(source, dict):
        return source, "the state dict", None
    path = Path(source)
    state = read_state_dict(path)
    with open(path, "rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()
    return state, repr(os.fspath(path)), {"path": str(path.resolve()), "size": path.stat().st_size, "sha256": digest}


def _fetched(preset, cache_dir) -> tuple:
    """`_read` of a preset's cached file; one that is no checkpoint (an error page, a cut transfer) is removed."""
    path = fetch(preset, cache_dir)
    try:
        return _read(path)
    except CheckpointError as error:
        path.unlink(missing_ok=True)
        raise DownloadError(f"The file downloaded from {preset.url} is no PyTorch checkpoint ({error}); it was removed "
                            "from the cache, the next call downloads it again.") from None


def _refuse_architecture(given: dict, decided_by: str) -> None:
    clash = sorted(set(given) & set(ARCHITECTURE))
    if clash:
        raise ValueError(f"Invalid arguments {clash}: {decided_by} sets the architecture (they are for a .pth file). "
                         f"Received: { {name: given[name] for name in clash} }.")


# === Networks ===


def _class_kwargs(fields: dict) -> dict:
    """A network class's constructor arguments from the reference's (netG, ... or netD, ...)."""
    if "netD" in fields:
        return {"kind": "pixel" if fields["netD"] == "pixel" else "n_layers",
                "n_layers": 3 if fields["netD"] == "basic" else fields["n_layers_D"],
                **{name: fields[name] for name in ("ndf", "norm", "input_channels", "condition_channels")}}
    family, size = generator_size(fields["netG"])
    names = ("ngf", "norm", "dropout", "input_channels", "output_channels", "downsample", "upsample")
    return {"depth" if family == "unet" else "n_blocks": size, **{n: fields[n] for n in names if n in fields}}


def load_network(cls, preset, *, epoch: str | int = "latest", cache_dir=None, **kwargs):
    """`cls.from_preset(preset, **kwargs)`: a network of this package with the reference's weights.

    Args:
        cls: UNetGenerator, ResNetGenerator or PatchGANDiscriminator (or a subclass).
        preset: str, path-like or dict. A preset name (generators only), a `.pth` file (or its state dict), or a
            reference `checkpoints/NAME/` folder (its G or G_A file; D or D_A for a discriminator).
        epoch: str or int. With a folder: which epoch's file. Defaults to "latest".
        cache_dir: str, path-like or None. The download cache for a preset name (`presets.fetch`).
        **kwargs: constructor arguments of `cls` (image_size, name, dropout, ...); with a `.pth` file they
            override what its tensors say.

    Returns:
        A `cls` with every weight from the file.
    """
    family = next(_FAMILIES[c.__name__] for c in cls.__mro__ if c.__name__ in _FAMILIES)
    (kind, spec), role, state, defaults = _kind(preset), "D" if family == "discriminator" else "G", None, {}
    if kind == "preset":
        _refuse_architecture(kwargs, f"the preset {spec.name!r}")
        fields = spec.architecture
    else:
        path = preset
        if kind == "folder":
            found = find_checkpoints(preset, epoch)
            path = next((p for r, p in found.files.items() if r[0] == role), None)
            if path is None:
                raise FileNotFoundError(f"Invalid value for argument `preset`: {preset} holds no {found.epoch}_net_"
                                        f"{role}*.pth file for a {cls.__name__}.")
            if role == "G" and found.options_file and read_options(found.options_file).get("no_dropout"):
                defaults["dropout"] = 0.0  # a generator's dropout leaves no trace in its file
        state, name, _ = _read(path)
        fields = cut_generator_fields(state, name) if is_cut_state_dict(state) else infer_architecture(state).kwargs()
    holds = fields.get("netG") or f"discriminator ({fields['netD']})"
    if not holds.startswith(family):  # another family than `cls` (a U-Net for ResNetGenerator): name the right class
        right = next(name for name, f in _FAMILIES.items() if holds.startswith(f))
        raise ValueError(f"Invalid value for argument `preset`. Received: preset={os.fspath(preset)!r}, which holds a "
                         f"{holds} network. Expected a {cls.__name__} preset, .pth file or checkpoint folder; load "
                         f"this one with {right}.from_preset.")
    if state is None:  # a preset: downloaded once it is known to fit `cls`
        state, name, _ = _fetched(spec, cache_dir)
    assign = assign_cut_weights if fields.get("upsample") == "blur" else assign_weights  # the CUT authors' G
    return assign(cls(**{**_class_kwargs(fields), **defaults, **kwargs}), state, source=name)


# === Models ===


def _network_args(config, attr: str) -> dict:
    """The reference's arguments that network `attr` of the model `config` describes: what `_assemble` checks each
    file against before anything is built (an options file's `ngf: 1000` would build a 6 GB model first)."""
    c_in, c_out = config.input_channels, config.output_channels
    if attr.startswith("generator"):
        swap = attr == "generator_f"  # F maps B -> A
        return {"netG": config.netG, "norm": config.norm, "ngf": config.ngf, "input_channels": c_out if swap else c_in,
                "output_channels": c_in if swap else c_out, "dropout": config.dropout}
    return {"netD": config.netD, "n_layers_D": config.n_layers_D, "norm": config.norm, "ndf": config.ndf,
            "input_channels": c_in if attr == "discriminator_a" else c_out,  # pix2pix's D sees (condition, image)
            "condition_channels": c_in if attr == "discriminator" and config.terms.conditional else 0}


def _assemble(config, sources: dict, builder, urls: dict) -> tuple:
    """(the model `builder(config)` makes with the networks of `sources` imported, each network's provenance).

    `sources`: model attribute ("generator", "discriminator_b", ...) -> `_read`'s (state dict, name, record); the
    other networks keep their fresh initialisation. `urls`: model attribute -> the address a file came from.
    """
    for attr, (state, name, _) in sources.items():  # the files' shapes against the options, before building
        check_state_dict(state, _network_args(config, attr), name)
    model = builder(config)
    networks = {}
    for attr, (reference_name, meaning) in NAMING[config.model].items():
        network = getattr(model, attr)
        if network is None:
            continue
        networks[attr] = entry = {"reference_name": None, "reference_meaning": meaning, "source": None, "file": None,
                                  "architecture": None, "weights": f"fresh: weights ~ N(0, {config.init_gain})"}
        if attr in sources:
            state, name, record = sources[attr]
            assign_weights(network, state, source=name)
            found = infer_architecture(state)
            entry.update(reference_name=reference_name, source=urls.get(attr) or (record or {}).get("path") or name,
                         file=record, weights="imported",
                         architecture={"description": found.describe(), **dataclasses.asdict(found)},
                         **({"url": urls[attr]} if attr in urls else {}))
    return model, networks


def _config(model: str, fields: dict):
    """The config of `model` with `fields`; the smallest image size a unet_512 or deeper takes, and at test time
    what the reference's test.py does unless its options say --eval: dropout on, batch norm on each image's
    statistics (`choices.PAPER_MODE`)."""
    config_class = CONFIG_CLASSES[model]
    family, size = parse_generator_name(fields.get("netG", config_class.netG))
    if family == "unet" and 2**size > 256 and "image_size" not in fields:
        fields = {**fields, "image_size": 2**size, "load_size": 2**size * 286 // 256}
    test_time = {"test_dropout": PAPER_MODE.dropout, "test_batch_norm": PAPER_MODE.batch_norm}
    return config_class(**{"data": "", **test_time, **{k: v for k, v in fields.items() if v is not None}})


def build(source, builder, *, model: str | None = None, epoch: str | int = "latest", cache_dir=None,
          discriminator=None, **fields) -> Built:
    """An uncompiled Pix2Pix or CycleGAN from a preset, a `.pth` file or a reference run folder.

    Args:
        source: str, path-like or dict. See the module docstring.
        builder: callable. Makes the model a config describes (`pix2pix_from_config`, `training.run.build_model`).
        model: "pix2pix", "cyclegan" or None. None: the folder's model, else "pix2pix". Defaults to None.
        epoch: str or int. With a folder: which epoch ("latest", a number, "iter_N"). Defaults to "latest".
        cache_dir: str, path-like or None. The download cache for a preset. Defaults to None.
        discriminator: str, path-like or None. With a `.pth` generator: the same run's `net_D.pth`, imported too
            (netD, n_layers_D and ndf read from it). Defaults to None: a fresh one.
        **fields: config fields (data, direction, image_size, lambda_l1, ...); the architecture ones (netG, norm,
            ngf, input_channels, output_channels) only with a `.pth` file, whose tensors they override.

    Returns:
        A `Built`.

    Raises:
        ValueError: an unknown preset name, architecture fields a preset or folder sets, an invalid field.
        CheckpointError: a file cannot be read or does not fit the fields (each differing tensor listed).
        DownloadError: a preset's file cannot be downloaded (one line: the address, and how to pass a file).
        FileNotFoundError: a folder without the files or the options file.
    """
    kind, preset = _kind(source)
    if kind != "file":
        _refuse_architecture(fields, "the preset" if kind == "preset" else "the folder's options file")
    if kind == "folder":
        return _from_folder(Path(source), builder, model, epoch, fields)
    model = model or "pix2pix"
    g_attr = "generator" if model == "pix2pix" else "generator_g"
    sources, urls, extra = {}, {}, {}
    if kind == "preset":
        if preset.family == "cut":
            raise ValueError(f"Invalid value for argument `preset`. Received: preset={preset.name!r}, a CUT generator. "
                             f"Expected a {model} preset; load this one with CUT.from_preset or "
                             "ResNetGenerator.from_preset.")
        found = {**preset.architecture, "direction": preset.direction}
    else:
        sources[g_attr] = _read(source)
        found = infer_architecture(sources[g_attr][0]).kwargs()
    if discriminator is not None:
        if model != "pix2pix":
            raise ValueError("Invalid argument `discriminator`: it goes with one generator into a pix2pix model.")
        sources["discriminator"] = _read(discriminator)
        inferred = infer_architecture(sources["discriminator"][0]).kwargs()
        found.update({key: inferred[key] for key in ("netD", "n_layers_D", "ndf")})
    config = _config(model, {**found, **fields})
    if kind == "preset":  # downloaded once the config is known to be valid
        sources[g_attr], urls[g_attr] = _fetched(preset, cache_dir), preset.url
        extra["pretrained"] = {key: getattr(preset, key) for key in ("name", "family", "reference_name", "dataset",
                                                                      "description", "url")}
        inverse = [p for p in PRESETS.values() if (p.family, p.dataset) == (preset.family, preset.dataset)
                   and p.direction != preset.direction and model == "cyclegan"]
        if inverse:
            sources["generator_f"], urls["generator_f"] = _fetched(inverse[0], cache_dir), inverse[0].url
    assembled, networks = _assemble(config, sources, builder, urls)
    notes = [f"{attr}: no file for it; freshly initialised, fine-tuning trains it from scratch."
             for attr, entry in networks.items() if entry["reference_name"] is None]
    if model == "pix2pix" and config.netG.startswith("resnet_"):
        notes.append("A ResNet (CycleGAN) generator in a pix2pix run: fine-tuning trains it pix2pix-style, on paired "
                     "data.")
    if not config.data:
        notes.append("config.json has data='': translate and export need none; to fine-tune with train --resume, "
                     "import with data=... (a resumed run may not change data).")
    return Built(config, assembled, networks, notes, "pretrained" if kind == "preset" else "generator", extra)


def _from_folder(folder: Path, builder, model: str | None, epoch, fields: dict) -> Built:
    """Every network of one epoch of a reference run folder, its options mapped onto the config."""
    found = find_checkpoints(folder, epoch)
    if found.options_file is None:
        first = found.files["G_A" if "G_A" in found.files else "G"]
        raise FileNotFoundError(f"Invalid value for argument `preset`: {folder} has no train_opt.txt, opt.txt or "
                                "test_opt.txt, which say how its networks were built. Import its generator file "
                                f"instead: `tfgan-translate import {first}`.")
    options = read_options(found.options_file)
    family = "cyclegan" if found.layout == "cyclegan" else "pix2pix"
    if model not in (None, family):
        raise ValueError(f"Invalid value for argument `preset`. Received: preset={str(folder)!r}, which holds "
                         f"{found.layout} files for epoch {found.epoch!r}. Expected a {model} run folder.")
    # A lone generator is a pix2pix-style run; `--model test` options do not say the model: the files do.
    as_model = "pix2pix" if found.layout == "single" else family if options.get("model") in (None, "test") else None
    mapped = options_to_config_fields(options, model=as_model)
    if mapped.config_class != CONFIG_CLASSES[family].__name__:
        raise ValueError(f"{found.options_file} says model={options.get('model')!r}, but {folder} holds "
                         f"{found.layout} files for epoch {found.epoch!r} "
                         f"({', '.join(p.name for p in found.files.values())}).")
    roles = {role: attr for attr, (role, _) in NAMING[family].items()}
    sources = {roles[role]: _read(path) for role, path in found.files.items()}
    if "dropout" not in mapped.fields:  # options without no_dropout: a ResNet's dropout as its file shows it
        with contextlib.suppress(CheckpointError):  # the mapping's check names the problem
            generator = infer_architecture(sources["generator_g" if family == "cyclegan" else "generator"][0])
            mapped.fields["dropout"] = None if generator.dropout is None else 0.5 if generator.dropout else 0.0
    config = _config(family, {**mapped.fields, **fields})
    assembled, networks = _assemble(config, sources, builder, {})
    notes = [f"{folder} holds one generator: a pix2pix-style run with a fresh discriminator (fine-tuning trains it "
             "on paired data)."] if found.layout == "single" else []
    for attr, entry in networks.items():
        role, meaning = NAMING[family][attr]
        notes.append(f"The reference's {role} ({meaning}) -> {attr}." if entry["reference_name"] else
                     f"{attr}: no {found.epoch}_net_{role}.pth in {folder}; freshly initialised.")
    notes += list(mapped.notes)
    if "data" in mapped.fields and "data" not in fields:
        notes.append(f"data={config.data!r} is the reference's dataroot, relative to where it ran; pass data=... to "
                     "train on it from here (a resumed run may not change data).")
    if str(found.epoch).isdigit():
        notes.append(f"The reference run had reached epoch {found.epoch}; train --resume runs the schedule's epochs "
                     f"1-{config.epochs} again.")
    extra = {"reference_run": {"folder": str(folder.resolve()), "epoch": found.epoch, "layout": found.layout,
                               "options_file": str(found.options_file.resolve()), "options": options}}
    return Built(config, assembled, networks, notes, "reference_run", extra)

