"""GAN models: Pix2Pix (and, later, CycleGAN) with their shared pieces."""

from tfgan_translate.models.pix2pix import OBJECTIVES, Pix2Pix, pix2pix_from_config
from tfgan_translate.models.schedules import LinearDecaySchedule

__all__ = ["OBJECTIVES", "Pix2Pix", "pix2pix_from_config", "LinearDecaySchedule"]
