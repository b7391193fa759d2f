"""Importing the PyTorch reference's checkpoints (pytorch-CycleGAN-and-pix2pix) without torch.

- Reading: `read_state_dict` reads a `.pth` state dict into numpy arrays through an allow-listed unpickler
  (`pth`, `unpickler` over our own bounded `pickle_machine`, `tensors`, `errors`); nothing else in a file is
  ever run, and what a hostile file can cost is bounded (objects, nesting, memory).
- Mapping: `load_generator` / `load_discriminator` build this package's network and set every weight from
  one (`mapping`, `layouts`); `infer_architecture` says what a file holds (`architecture`).
- The reference's runs: `read_options` / `options_to_config_fields` (its train_opt.txt), `find_checkpoints`
  (its `<epoch>_net_*.pth` files); the 23 pretrained generators (`pretrained`) and their download
  (`download`, `http_transfer`, `progress`).
- Run folders: `import_generator`, `import_pretrained`, `import_reference_run` and `import_into_run`
  (what `tfgan-translate import` calls) write a run folder that translate, export, evaluate and
  `train --resume` accept (`importer`, `reference_run`, `run_folder`, `inverse`).

Names are imported lazily, so that the light modules (the reader, the table, the downloader) do not load
TensorFlow.

Example:

>>> from tfgan_translate.reference import read_state_dict
>>> state = read_state_dict("checkpoints/facades_label2photo_pretrained/latest_net_G.pth")  # doctest: +SKIP
"""

from __future__ import annotations

from tfgan_translate.lazy import lazy_exports

_EXPORTS = {
    "CheckpointError": "tfgan_translate.reference.pth",
    "DownloadError": "tfgan_translate.reference.download",
    "ImportResult": "tfgan_translate.reference.run_folder",
    "PretrainedSpec": "tfgan_translate.reference.pretrained",
    "ReferenceArchitecture": "tfgan_translate.reference.mapping",
    "UnsafeCheckpointError": "tfgan_translate.reference.pth",
    "assign_discriminator_weights": "tfgan_translate.reference.mapping",
    "assign_generator_weights": "tfgan_translate.reference.mapping",
    "cached_pretrained": "tfgan_translate.reference.download",
    "find_checkpoints": "tfgan_translate.reference.options",
    "import_generator": "tfgan_translate.reference.importer",
    "import_into_run": "tfgan_translate.reference.importer",
    "import_pretrained": "tfgan_translate.reference.importer",
    "import_reference_run": "tfgan_translate.reference.reference_run",
    "infer_architecture": "tfgan_translate.reference.mapping",
    "load_discriminator": "tfgan_translate.reference.mapping",
    "load_generator": "tfgan_translate.reference.mapping",
    "load_reference_generator": "tfgan_translate.reference.importer",
    "options_to_config_fields": "tfgan_translate.reference.options",
    "pretrained_names": "tfgan_translate.reference.pretrained",
    "pretrained_spec": "tfgan_translate.reference.pretrained",
    "read_options": "tfgan_translate.reference.options",
    "read_state_dict": "tfgan_translate.reference.pth",
    "reference_cyclegan": "tfgan_translate.reference.importer",
    "reference_pix2pix": "tfgan_translate.reference.importer",
    "state_dict_from_network": "tfgan_translate.reference.inverse",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
