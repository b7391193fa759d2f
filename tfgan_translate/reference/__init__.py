"""Importing the PyTorch reference's checkpoints (pytorch-CycleGAN-and-pix2pix) without torch.

`read_state_dict` reads a `.pth` state dict into numpy arrays through an allow-listed unpickler.
`load_generator` / `load_discriminator` build this package's network and set every weight from one
(`infer_architecture` says what a file holds).

Example:

>>> from tfgan_translate.reference import read_state_dict
>>> state = read_state_dict("checkpoints/facades_label2photo_pretrained/latest_net_G.pth")  # doctest: +SKIP
"""

from tfgan_translate.reference.pth import CheckpointError, UnsafeCheckpointError, read_state_dict

__all__ = ["CheckpointError", "UnsafeCheckpointError", "read_state_dict"]

from tfgan_translate.reference.mapping import (
    ReferenceArchitecture,
    assign_discriminator_weights,
    assign_generator_weights,
    infer_architecture,
    load_discriminator,
    load_generator,
)

__all__ += [
    "ReferenceArchitecture",
    "assign_discriminator_weights",
    "assign_generator_weights",
    "infer_architecture",
    "load_discriminator",
    "load_generator",
]

# `download` (the function) stays in its module: re-exported here it would hide the module `reference.download`.
from tfgan_translate.reference.download import DownloadError, cached_pretrained  # noqa: E402
from tfgan_translate.reference.options import (  # noqa: E402
    find_checkpoints,
    options_to_config_fields,
    read_options,
)
from tfgan_translate.reference.pretrained import PretrainedSpec, pretrained_names, pretrained_spec  # noqa: E402

__all__ += [
    "DownloadError",
    "PretrainedSpec",
    "cached_pretrained",
    "find_checkpoints",
    "options_to_config_fields",
    "pretrained_names",
    "pretrained_spec",
    "read_options",
]

# Importing into run folders (`tfgan-translate import`).
from tfgan_translate.reference.importer import (  # noqa: E402
    import_generator,
    import_pretrained,
    load_reference_generator,
    reference_cyclegan,
    reference_pix2pix,
)
from tfgan_translate.reference.inverse import state_dict_from_network  # noqa: E402
from tfgan_translate.reference.reference_run import import_reference_run  # noqa: E402
from tfgan_translate.reference.run_folder import ImportResult  # noqa: E402

__all__ += [
    "ImportResult",
    "import_generator",
    "import_pretrained",
    "import_reference_run",
    "load_reference_generator",
    "reference_cyclegan",
    "reference_pix2pix",
    "state_dict_from_network",
]
