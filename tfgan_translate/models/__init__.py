"""GAN models: Pix2Pix, CycleGAN and CUT, and the pieces they share."""

import tfgan_translate.networks  # noqa: F401  (registers the custom layers that saved models contain)
from tfgan_translate.models.base import TranslationGAN
from tfgan_translate.models.cut import CUT, cut_from_config
from tfgan_translate.models.cycle_gan import CycleGAN, cyclegan_from_config
from tfgan_translate.models.image_pool import ImagePool
from tfgan_translate.models.pix2pix import Pix2Pix, pix2pix_from_config
from tfgan_translate.models.schedules import LinearDecaySchedule

__all__ = ["CUT", "CycleGAN", "ImagePool", "LinearDecaySchedule", "Pix2Pix", "TranslationGAN", "cut_from_config",
           "cyclegan_from_config", "pix2pix_from_config"]
