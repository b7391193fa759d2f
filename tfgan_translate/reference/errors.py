"""The errors of reading a PyTorch checkpoint: `CheckpointError` and `UnsafeCheckpointError`.

Both are raised by `tfgan_translate.reference.pth.read_state_dict` (and re-exported there and from
`tfgan_translate.reference`); `CheckpointError` also by the mapping of a state dict onto this package's
networks. Every message names the file, what was found in it and what was expected.

Example:

>>> from tfgan_translate.reference import CheckpointError, UnsafeCheckpointError
>>> issubclass(UnsafeCheckpointError, CheckpointError) and issubclass(CheckpointError, ValueError)
True
"""

from __future__ import annotations

__all__ = ["CheckpointError", "UnsafeCheckpointError"]

_EXPECTED = "Expected a PyTorch state_dict saved with torch.save(model.state_dict(), path)."


class CheckpointError(ValueError):
    """A file that is not a PyTorch state dict this reader can read; the message names the file.

    Example:

    >>> try:
    ...     read_state_dict("notes.txt")  # doctest: +SKIP
    ... except CheckpointError as err:
    ...     print(err)  # doctest: +SKIP
    Invalid checkpoint file `notes.txt`: it is text, not a PyTorch checkpoint ...
    """


class UnsafeCheckpointError(CheckpointError):
    """A checkpoint whose pickle names a global outside the allow-list; nothing it names was called.

    Example:

    >>> try:
    ...     read_state_dict("whole_model.pth")  # doctest: +SKIP
    ... except UnsafeCheckpointError as err:
    ...     print(err)  # doctest: +SKIP
    Invalid checkpoint file `whole_model.pth`: it is a pickled module ... not a state dict ...
    """


def _error(path, found, cls=CheckpointError):
    """The `cls` error for the file `path`: what was `found` in it, then what a state dict would be."""
    return cls(f"Invalid checkpoint file `{path}`: {found}. {_EXPECTED}")

