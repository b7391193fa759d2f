"""tfgan_translate: pix2pix and CycleGAN image-to-image translation on Keras 3.

Public API (imported lazily so that `tfgan-translate --help` starts fast):

>>> from tfgan_translate import Pix2Pix, unet_generator, patch_discriminator, paired_dataset
>>> from tfgan_translate import CycleGAN, resnet_generator, unpaired_dataset
"""

from __future__ import annotations

from tfgan_translate.lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    "Pix2Pix": "tfgan_translate.models.pix2pix",
    "pix2pix_from_config": "tfgan_translate.models.pix2pix",
    "CycleGAN": "tfgan_translate.models.cycle_gan",
    "cyclegan_from_config": "tfgan_translate.models.cycle_gan",
    "ImagePool": "tfgan_translate.models.image_pool",
    "LinearDecaySchedule": "tfgan_translate.models.schedules",
    "unet_generator": "tfgan_translate.networks",
    "UNetGenerator": "tfgan_translate.networks",
    "ResNetGenerator": "tfgan_translate.networks",
    "PatchGANDiscriminator": "tfgan_translate.networks",
    "resnet_generator": "tfgan_translate.networks",
    "patch_discriminator": "tfgan_translate.networks",
    "build_generator": "tfgan_translate.networks",
    "build_discriminator": "tfgan_translate.networks",
    "paired_dataset": "tfgan_translate.data",
    "unpaired_dataset": "tfgan_translate.data",
    "write_synthetic_dataset": "tfgan_translate.data",
    "Pix2PixConfig": "tfgan_translate.config",
    "CycleGANConfig": "tfgan_translate.config",
    "load_config": "tfgan_translate.config",
    "train": "tfgan_translate.training.run",
    "load_run": "tfgan_translate.training.run",
    "build_model": "tfgan_translate.training.run",
    "SampleGrid": "tfgan_translate.training.callbacks",
    "translate_files": "tfgan_translate.inference",
    "translate_array": "tfgan_translate.inference",
    "inference_generator": "tfgan_translate.inference_mode",
    "InferenceMode": "tfgan_translate.choices",
    "export_generator": "tfgan_translate.export",
    "import_reference": "tfgan_translate.reference",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
