"""The reference's generators as run folders of this package: `tfgan-translate import` as functions.

`import_generator(PATH.pth, OUT, netG=..., norm=...)` and `import_pretrained(NAME, OUT)` write a run folder
that `translate --checkpoint`, `export`, `evaluate --checkpoint` and `train --resume` read like one that
`train` wrote::

    OUT/
      config.json               a Pix2PixConfig: the architecture from the arguments, data "" (see below)
      checkpoints/latest.keras  the model, compiled with this package's optimizers (fresh state, step 0)
      imported.json             provenance: source, size, SHA-256, the file's architecture, the naming, date

A single generator becomes a pix2pix-style run: one generator and one discriminator (imported from
`discriminator=PATH_D.pth`, else freshly initialised). A CycleGAN generator (resnet_9blocks, instance norm)
becomes one too: fine-tuning such a run trains it pix2pix-style, on paired data, against the new
discriminator. Whole reference runs (both CycleGAN generators and discriminators) go through
`import_reference_run` (`reference_run.py`).

The imported config has `data=""` unless `config_fields` names the data. `train ... --resume --data DIR`
fine-tunes it (a resumed run may set `data` where its config has none, `config.check_resumable`); the fields
a resumed run may not change (image size, learning rate, ...) are set at import time with `config_fields`.

The weights are computed in float32 (the reference's precision; a resumed run keeps its checkpoint's).
Nothing is unpickled beyond the reader's allow-list (`tfgan_translate.reference.pth`).

Example:

>>> from tfgan_translate import import_pretrained, load_run
>>> result = import_pretrained("horse2zebra", "runs/horse2zebra")  # doctest: +SKIP
>>> config, model = load_run("runs/horse2zebra")  # doctest: +SKIP
"""

from __future__ import annotations

import os

import keras

from tfgan_translate.config import CycleGANConfig, Pix2PixConfig
from tfgan_translate.models.cycle_gan import CycleGAN
from tfgan_translate.models.pix2pix import Pix2Pix
from tfgan_translate.networks import generator_size_multiple
from tfgan_translate.reference.download import cached_pretrained
from tfgan_translate.reference.mapping import load_generator
from tfgan_translate.reference.pretrained import pretrained_spec
from tfgan_translate.reference.reference_run import import_reference_run
from tfgan_translate.reference.run_folder import (
    ImportResult,
    _assemble,
    _finish,
    _read,
    _resolve_dropout,
    check_out_dir,
)

# === Single generators ===


def _pix2pix_config(fields: dict, state: dict, config_fields: dict | None) -> Pix2PixConfig:
    extra = dict(config_fields or {})
    clash = sorted(set(extra) & (set(fields) | {"direction"}))
    if clash:
        raise ValueError(f"Invalid value for argument `config_fields`. Received: fields {clash}. Expected fields "
                         "other than the architecture and direction, which are arguments of their own.")
    fields = _resolve_dropout(fields, state, Pix2PixConfig)
    multiple = generator_size_multiple(fields.get("netG", Pix2PixConfig.netG))
    if multiple > 256 and "image_size" not in extra:  # unet_512 and deeper: the smallest size it takes
        extra.update(image_size=multiple, load_size=multiple * 286 // 256)
    return Pix2PixConfig(**{"data": "", **fields, **extra})


def reference_pix2pix(g_path, d_path=None, **arch) -> Pix2Pix:
    """Assembles an uncompiled `Pix2Pix` from the reference's `net_G.pth` (and `net_D.pth`).

    Args:
        g_path: str, path-like or dict. The generator's `.pth` file (or state dict).
        d_path: str, path-like, dict or None. The discriminator's; None keeps a fresh one. Defaults to None.
        **arch: fields of `Pix2PixConfig` (netG, norm, dropout, ngf, input_channels, output_channels, netD,
            n_layers_D, ndf, objective, ...), the reference's options; unset ones take the config's defaults,
            which are the reference's pix2pix defaults (unet_256, batch norm, basic D). `dropout=None` (the
            default) reads it from a ResNet file and takes 0.5 for a U-Net.

    Returns:
        An uncompiled `Pix2Pix` in float32: call `compile(g_optimizer=..., d_optimizer=...)` to train it.

    Raises:
        CheckpointError: a file cannot be read or does not fit `arch` (the mapping lists what differs).
        ValueError: an invalid field.

    Example:

    >>> model = reference_pix2pix("checkpoints/facades/latest_net_G.pth",  # doctest: +SKIP
    ...                           "checkpoints/facades/latest_net_D.pth", netG="unet_256", norm="batch")
    """
    g = _read(g_path)
    config = _pix2pix_config(dict(arch), g[0], None)
    sources = {"generator": g} if d_path is None else {"generator": g, "discriminator": _read(d_path)}
    return _assemble(config, sources)[0]


def reference_cyclegan(g_a, g_b, d_a=None, d_b=None, **arch) -> CycleGAN:
    """Assembles an uncompiled `CycleGAN` from the reference's `net_G_A`, `net_G_B` (, `net_D_A`, `net_D_B`).

    The reference's names map onto this package's as its `cycle_gan_model.py` defines them: G_A (A -> B) is
    `generator_g`, G_B (B -> A) `generator_f`, D_A (judges B images) `discriminator_b`, D_B `discriminator_a`.

    Args:
        g_a, g_b: str, path-like or dict. The two generators' files (or state dicts).
        d_a, d_b: str, path-like, dict or None. The discriminators'; None keeps fresh ones. Default to None.
        **arch: fields of `CycleGANConfig` (netG, norm, dropout, ngf, input_channels, output_channels, netD,
            n_layers_D, ndf, image_size, ...); unset ones take the reference's CycleGAN defaults
            (resnet_9blocks, instance norm, no dropout, basic D).

    Returns:
        An uncompiled `CycleGAN` in float32.

    Raises:
        CheckpointError: a file does not fit `arch`.
        ValueError: an invalid field.

    Example:

    >>> model = reference_cyclegan("latest_net_G_A.pth", "latest_net_G_B.pth")  # doctest: +SKIP
    >>> zebras = model.translate(horses, "AtoB")  # doctest: +SKIP
    """
    g = _read(g_a)
    config = CycleGANConfig(**_resolve_dropout(dict(arch), g[0], CycleGANConfig))
    sources = {"generator_g": g, "generator_f": _read(g_b)}
    for attr, path in (("discriminator_b", d_a), ("discriminator_a", d_b)):
        if path is not None:
            sources[attr] = _read(path)
    return _assemble(config, sources)[0]


def import_generator(source, out_dir, *, netG: str, norm: str, dropout: float | None = None, ngf: int = 64,
                     input_channels: int = 3, output_channels: int = 3, direction: str = "AtoB",
                     discriminator=None, netD: str = "basic", n_layers_D: int = 3, ndf: int = 64,
                     overwrite: bool = False, config_fields: dict | None = None) -> ImportResult:
    """Writes a pix2pix-style run folder around one reference generator (`tfgan-translate import PATH.pth`).

    The run holds the generator and a discriminator (imported from `discriminator`, else fresh), its config
    the architecture given here, and `imported.json` the provenance. `translate --checkpoint`, `export`,
    `evaluate --checkpoint` and `train --resume` accept it. A CycleGAN generator imported this way fine-tunes
    pix2pix-style: on paired data, against the pix2pix discriminator.

    Args:
        source: str, path-like or dict. The generator's `.pth` file (e.g. `latest_net_G.pth`).
        out_dir: str or path-like. The run folder to write: new or empty (see `overwrite`).
        netG: str. The reference's `--netG`: unet_256, unet_128, resnet_9blocks, resnet_6blocks, ...
        norm: str. The reference's `--norm`: "batch", "instance" or "none".
        dropout: float or None. Generator dropout; None reads it from a ResNet file and takes 0.5 for a U-Net
            (the reference's default; `--no_dropout` means 0). Defaults to None.
        ngf: int. `--ngf`. Defaults to 64.
        input_channels: int. `--input_nc`. Defaults to 3.
        output_channels: int. `--output_nc`. Defaults to 3.
        direction: str. "AtoB" or "BtoA": which way the generator maps the data folders. Defaults to "AtoB".
        discriminator: str, path-like, dict or None. The reference's `net_D.pth` of the same run (it judges
            the input and output channels together). None: a fresh one. Defaults to None.
        netD: str. `--netD` ("basic", "n_layers", "pixel"). Defaults to "basic".
        n_layers_D: int. `--n_layers_D`. Defaults to 3.
        ndf: int. `--ndf`. Defaults to 64.
        overwrite: bool. Write into a non-empty `out_dir`: replaces config.json, imported.json and
            checkpoints/latest.keras there, deletes nothing else. Defaults to False.
        config_fields: dict or None. Other `Pix2PixConfig` fields of the run (data, image_size, epochs, lr,
            ...), for `train --resume` to fine-tune with: a resumed run may not change them. Defaults to None.

    Returns:
        An `ImportResult`.

    Raises:
        CheckpointError: the file cannot be read or does not fit the arguments (the mapping's message lists
            the keys and what the arguments and the file imply); nothing is written.
        FileExistsError: `out_dir` holds something and `overwrite` is False.
        ValueError: an invalid argument.

    Example:

    >>> result = import_generator("latest_net_G.pth", "runs/facades", netG="unet_256", norm="batch",  # doctest: +SKIP
    ...                           direction="BtoA")
    >>> print(result.summary())  # doctest: +SKIP
    """
    fields = {"netG": netG, "norm": norm, "dropout": dropout, "ngf": ngf, "input_channels": input_channels,
              "output_channels": output_channels, "netD": netD, "n_layers_D": n_layers_D, "ndf": ndf}
    return _import_generator(source, out_dir, fields, direction=direction, discriminator=discriminator,
                             overwrite=overwrite, config_fields=config_fields)


def _import_generator(source, out_dir, fields: dict, *, direction: str, discriminator, overwrite: bool,
                      config_fields: dict | None, url: str | None = None, extra: dict | None = None) -> ImportResult:
    """`import_generator`, with the address a file came from (`url`) and more provenance (`extra`)."""
    check_out_dir(out_dir, overwrite)
    g = _read(source)
    config = _pix2pix_config(fields, g[0], config_fields).replace(direction=direction)
    sources = {"generator": g}
    if discriminator is not None:
        sources["discriminator"] = _read(discriminator)
    model, networks = _assemble(config, sources, urls={"generator": url} if url else None)
    notes = []
    if discriminator is None:
        notes.append(f"No discriminator given: a fresh {config.netD} discriminator; fine-tuning trains it from "
                     "scratch.")
    if config.netG.startswith("resnet_"):
        notes.append("A ResNet (CycleGAN) generator in a pix2pix run: fine-tuning trains it pix2pix-style, on paired "
                     "data.")
    if not config.data:
        notes.append("config.json has data='': translate and export need none; to fine-tune with train --resume, "
                     "import with config_fields={'data': ...} (a resumed run may not change data).")
    return _finish(config, model, networks, out_dir, kind="pretrained" if url else "generator", notes=notes,
                   overwrite=overwrite, extra=extra)


def import_pretrained(name: str, out_dir, *, overwrite: bool = False, cache_dir=None, progress: bool = True,
                      config_fields: dict | None = None) -> ImportResult:
    """Downloads one of the reference's 23 pretrained generators (once) and imports it as a run folder.

    `tfgan-translate import --pretrained NAME --out DIR`. The architecture and direction come from the
    pretrained table (`pretrained_spec(name)`), the file from `cached_pretrained` (a cache folder; offline
    the call fails within seconds with a `DownloadError` that names the address and how to pass a local
    file to `import_generator` instead).

    Args:
        name: str. A name from `pretrained_names()` ("horse2zebra", "pix2pix_facades_label2photo") or
            "cyclegan/NAME" / "pix2pix/NAME".
        out_dir: str or path-like. The run folder to write (new or empty, see `import_generator`).
        overwrite: bool. As for `import_generator`. Defaults to False.
        cache_dir: str, path-like or None. The download cache; None: `pretrained_cache_dir()`.
        progress: bool. Show download progress on stderr. Defaults to True.
        config_fields: dict or None. Other config fields (data, ...), as for `import_generator`.

    Returns:
        An `ImportResult`; `imported.json` names the pretrained entry and its address.

    Raises:
        ValueError: an unknown name (the closest ones suggested).
        DownloadError: the download failed.
        FileExistsError: `out_dir` holds something and `overwrite` is False (checked before downloading).

    Example:

    >>> result = import_pretrained("style_monet", "runs/style_monet")  # doctest: +SKIP
    >>> result.config.direction  # doctest: +SKIP
    'BtoA'
    """
    spec = pretrained_spec(name)
    check_out_dir(out_dir, overwrite)
    path = cached_pretrained(spec.name, cache_dir=cache_dir, progress=progress)
    pretrained = {"name": spec.name, "family": spec.family, "reference_name": spec.reference_name,
                  "dataset": spec.dataset, "description": spec.description, "url": spec.url}
    fields = {"netG": spec.netG, "norm": spec.norm, "dropout": spec.dropout, "ngf": spec.ngf,
              "input_channels": spec.input_channels, "output_channels": spec.output_channels}
    return _import_generator(path, out_dir, fields, direction=spec.direction or "AtoB", discriminator=None,
                             overwrite=overwrite, config_fields=config_fields, url=spec.url,
                             extra={"pretrained": pretrained})


def import_into_run(out_dir, *, source=None, pretrained: str | None = None, epoch: str | int = "latest",
                    overwrite: bool = False, **architecture) -> ImportResult:
    """`tfgan-translate import`: a pretrained name, a reference checkpoint folder or one `.pth` file as a run.

    Args:
        out_dir: str or path-like. The run folder to write (new or empty, see `import_generator`).
        source: str, path-like or None. A reference `checkpoints/NAME/` folder (`import_reference_run`) or a
            generator's `.pth` file (`import_generator`, which needs `netG` and `norm`). Defaults to None.
        pretrained: str or None. A name of the pretrained table (`import_pretrained`). Defaults to None.
        epoch: str or int. With a folder: which epoch's files. Defaults to "latest".
        overwrite: bool. See `import_generator`. Defaults to False.
        **architecture: `import_generator`'s architecture arguments (netG, norm, dropout, ngf, channels,
            direction, discriminator, netD, n_layers_D, ndf); None values count as not given.

    Returns:
        An `ImportResult`.

    Raises:
        ValueError: neither or both of `source` and `pretrained`, architecture arguments where the table or
            the folder's options decide it, or a `.pth` file without `netG` and `norm`.

    Example:

    >>> import_into_run("runs/h2z", pretrained="horse2zebra")  # doctest: +SKIP
    >>> import_into_run("runs/f", source="latest_net_G.pth", netG="unet_256", norm="batch")  # doctest: +SKIP
    """
    given = {name: value for name, value in architecture.items() if value is not None}
    if (source is None) == (pretrained is None):
        raise ValueError(f"Invalid arguments: pass a checkpoint (a .pth file or a reference checkpoints/NAME/ "
                         f"folder) or --pretrained NAME, not {'both' if source is not None else 'neither'}.")
    decided_by = "the pretrained table" if pretrained is not None else "the folder's options file"
    if given and (pretrained is not None or os.path.isdir(source)):
        raise ValueError(f"Invalid arguments: {', '.join('--' + name for name in sorted(given))} given, but "
                         f"{decided_by} sets the architecture. Received: {given}.")
    if pretrained is not None:
        return import_pretrained(pretrained, out_dir, overwrite=overwrite)
    if os.path.isdir(source):
        return import_reference_run(source, out_dir, epoch=epoch, overwrite=overwrite)
    missing = [name for name in ("netG", "norm") if name not in given]
    if missing:
        raise ValueError(f"Invalid arguments for {source}: a .pth file needs {' and '.join('--' + m for m in missing)}"
                         " (the reference's flags of the run that wrote it, e.g. --netG resnet_9blocks --norm "
                         "instance for its CycleGAN models, --netG unet_256 --norm batch for pix2pix).")
    return import_generator(source, out_dir, overwrite=overwrite, **given)


def load_reference_generator(source_or_name, *, cache_dir=None, progress: bool = True, **architecture) -> keras.Model:
    """One reference generator as a Keras model: from a `.pth` file, or by pretrained name.

    Args:
        source_or_name: str, path-like or dict. A `.pth` file (or state dict), or a name from
            `pretrained_names()` (then downloaded once into the cache, and the architecture comes from the
            table).
        cache_dir: str, path-like or None. The download cache for a name. Defaults to None.
        progress: bool. Show download progress. Defaults to True.
        **architecture: `load_generator`'s arguments (netG, norm, dropout, ngf, input_channels,
            output_channels); netG and norm are required for a file, none may be given with a name.

    Returns:
        A generator `keras.Model` (float32). Its dropout stays on at inference, as in pix2pix; for the
        reference's eval-mode output use `tfgan_translate.export.inference_copy(g, noise="off")`.

    Raises:
        FileNotFoundError: neither a file nor a pretrained name.
        CheckpointError: the file does not fit the architecture.
        DownloadError: a download failed.
        ValueError: architecture arguments missing for a file, or given with a name.

    Example:

    >>> g = load_reference_generator("horse2zebra")  # doctest: +SKIP
    >>> zebra = g(horse[None], training=False)  # doctest: +SKIP
    >>> g = load_reference_generator("latest_net_G.pth", netG="unet_256", norm="batch")  # doctest: +SKIP
    """
    if isinstance(source_or_name, str) and not os.path.exists(source_or_name):
        try:
            spec = pretrained_spec(source_or_name)
        except ValueError as error:
            raise FileNotFoundError(f"Invalid value for argument `source_or_name`: {source_or_name!r} is neither a "
                                    f".pth file nor a pretrained name. {error}") from None
        if architecture:
            raise ValueError(f"Invalid arguments {sorted(architecture)} with the pretrained name {spec.name!r}: its "
                             "architecture comes from the pretrained table.")
        path = cached_pretrained(spec.name, cache_dir=cache_dir, progress=progress)
        return load_generator(path, netG=spec.netG, norm=spec.norm, dropout=spec.dropout, ngf=spec.ngf,
                              input_channels=spec.input_channels, output_channels=spec.output_channels)
    missing = [name for name in ("netG", "norm") if name not in architecture]
    if missing:
        raise ValueError(f"Missing arguments {missing} for the file {source_or_name!r}: pass the reference's --netG "
                         "and --norm (infer_architecture(read_state_dict(path)).kwargs() reads them from the file).")
    return load_generator(source_or_name, **architecture)


__all__ = [
    "import_generator",
    "import_into_run",
    "import_pretrained",
    "load_reference_generator",
    "reference_cyclegan",
    "reference_pix2pix",
]
