"""tfgan_translate: pix2pix and CycleGAN image-to-image translation on Keras 3.

Public API (imported lazily so that `tfgan-translate --help` starts fast):

>>> from tfgan_translate import Pix2Pix, UNetGenerator, PatchGANDiscriminator, paired_dataset
>>> from tfgan_translate import CycleGAN, ResNetGenerator, unpaired_dataset
"""

from __future__ import annotations

from tfgan_translate.lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    # models and networks
    "Pix2Pix": "tfgan_translate.models.pix2pix",
    "CycleGAN": "tfgan_translate.models.cycle_gan",
    "UNetGenerator": "tfgan_translate.networks",
    "ResNetGenerator": "tfgan_translate.networks",
    "PatchGANDiscriminator": "tfgan_translate.networks",
    # data
    "paired_dataset": "tfgan_translate.data",
    "unpaired_dataset": "tfgan_translate.data",
    "write_synthetic_dataset": "tfgan_translate.data",
    # runs: a config in, one call
    "Pix2PixConfig": "tfgan_translate.config",
    "CycleGANConfig": "tfgan_translate.config",
    "train": "tfgan_translate.training.run",
    "load_run": "tfgan_translate.training.run",
    # using a model
    "translate_files": "tfgan_translate.inference",
    "export_generator": "tfgan_translate.export",
    "evaluate_run": "tfgan_translate.evaluation",
    "import_reference": "tfgan_translate.reference",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
