"""Argument checks shared by the data functions; each error names the argument and the value received.

Example:

>>> check_int(4, "batch_size")
4
>>> check_int(-1, "seed", minimum=0)
Traceback (most recent call last):
ValueError: Invalid value for argument `seed`. Received: seed=-1. Expected an int >= 0.
"""

from __future__ import annotations

import numpy as np

# Channel counts an image file can be converted to (gray, RGB, RGBA).
FILE_CHANNELS = (1, 3, 4)


def is_int(value) -> bool:
    """Whether `value` is an int (numpy's too), not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def check_int(value, argument: str, minimum: int = 1) -> int:
    """`value` as an int; ValueError naming `argument` unless it is an int >= `minimum`."""
    if not is_int(value) or value < minimum:
        expected = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise ValueError(f"Invalid value for argument `{argument}`. Received: {argument}={value!r}. "
                         f"Expected {expected}.")
    return int(value)


def check_channels(channels, argument: str = "channels") -> int:
    """`channels` as an int; ValueError naming `argument` unless it is 1, 3 or 4."""
    if not is_int(channels) or channels not in FILE_CHANNELS:
        raise ValueError(f"Invalid value for argument `{argument}`. Received: {argument}={channels!r}. "
                         "Expected 1 (grayscale), 3 (RGB) or 4 (RGBA): image files hold at most 4 channels.")
    return int(channels)
