"""Importing the PyTorch reference's checkpoints (pytorch-CycleGAN-and-pix2pix) without torch.

`read_state_dict` reads a `.pth` state dict into numpy arrays through an allow-listed unpickler.

Example:

>>> from tfgan_translate.reference import read_state_dict
>>> state = read_state_dict("checkpoints/facades_label2photo_pretrained/latest_net_G.pth")  # doctest: +SKIP
"""

from tfgan_translate.reference.pth import CheckpointError, UnsafeCheckpointError, read_state_dict

__all__ = ["CheckpointError", "UnsafeCheckpointError", "read_state_dict"]
