"""tfgan_translate: pix2pix and CycleGAN image-to-image translation on Keras 3.

Public API (imported lazily so that `tfgan-translate --help` starts fast):

>>> from tfgan_translate import Pix2Pix, UNetGenerator, PatchGANDiscriminator, paired_dataset
>>> from tfgan_translate import CycleGAN, ResNetGenerator, unpaired_dataset
"""

from __future__ import annotations

from tfgan_translate.lazy import lazy_exports

__version__ = "0.1.0"

# {module: the public names it defines}, grouped as models and networks, data, runs (a config in, one call) and
# using a model.
_MODULES = {
    "tfgan_translate.models.pix2pix": ("Pix2Pix",),
    "tfgan_translate.models.cycle_gan": ("CycleGAN",),
    "tfgan_translate.networks": ("UNetGenerator", "ResNetGenerator", "PatchGANDiscriminator"),
    "tfgan_translate.data": ("paired_dataset", "unpaired_dataset", "write_synthetic_dataset"),
    "tfgan_translate.config": ("Pix2PixConfig", "CycleGANConfig"),
    "tfgan_translate.training.run": ("train", "load_run"),
    "tfgan_translate.inference": ("translate_files",),
    "tfgan_translate.export": ("export_generator",),
    "tfgan_translate.evaluation": ("evaluate_run",),
    "tfgan_translate.reference": ("import_reference",),
}
_EXPORTS = {name: module for module, names in _MODULES.items() for name in names}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
