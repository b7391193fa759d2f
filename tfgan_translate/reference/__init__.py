"""Importing the PyTorch reference's checkpoints (pytorch-CycleGAN-and-pix2pix) without torch.

- Reading: `read_state_dict` reads a `.pth` state dict into numpy arrays through an allow-listed unpickler
  (`pth`, `unpickler` over our own bounded `pickle_machine`, `tensors`, `errors`); nothing else in a file is
  ever run, and what a hostile file can cost is bounded (objects, nesting, memory).
- Mapping: `assign_weights` sets every weight of a generator or discriminator of this
  package from one (`mapping`, `layouts`); `infer_architecture` says what a file holds (`architecture`).
- Presets: the reference's 23 pretrained generators and the CUT authors' 6 (`presets`: the table, downloaded
  once with `keras.utils.get_file`; `archive` copies a member out of the CUT authors' tar);
  `UNetGenerator.from_preset`, `ResNetGenerator.from_preset`,
  `PatchGANDiscriminator.from_preset`, `Pix2Pix.from_preset` and `CycleGAN.from_preset` take a preset name, a
  `.pth` file or a reference `checkpoints/NAME/` folder (`loader`; its options: `options`).
- Run folders: `import_reference` (what `tfgan-translate import` calls) writes a run folder that translate,
  export, evaluate and `train --resume` accept (`importer`).

Names are imported lazily, so that the light modules (the reader, the table) do not load TensorFlow.

Example:

>>> from tfgan_translate.reference import read_state_dict
>>> state = read_state_dict("checkpoints/facades_label2photo_pretrained/latest_net_G.pth")  # doctest: +SKIP
"""

from __future__ import annotations

from tfgan_translate.lazy import lazy_exports

_EXPORTS = {name: f"tfgan_translate.reference.{module}" for module, names in {
    "pth": ("CheckpointError", "UnsafeCheckpointError", "read_state_dict"),
    "presets": ("DownloadError", "PRESETS", "get_preset", "preset_names"),
    "importer": ("ImportResult", "import_reference"),
    "architecture": ("ReferenceArchitecture", "infer_architecture"),
    "mapping": ("assign_weights", "state_dict_from_network"),
    "options": ("find_checkpoints", "read_options"),
    "option_mapping": ("options_to_config_fields",),
}.items() for name in names}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
