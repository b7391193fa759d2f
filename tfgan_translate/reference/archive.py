"""One file out of a downloaded tar archive, read without trusting the archive.

The CUT authors publish their six pretrained generators in one plain tar (`pretrained_models.tar`, members
`checkpoints/NAME_pretrained/latest_net_G.pth`). `extract_member` copies the one member a preset names, and
nothing else, to a path of ours: never `extractall`, so no member name, link or device in the archive decides
where anything is written. The member must be a regular file of at most `MAX_MEMBER_BYTES`; it is written
atomically (a temporary beside the target, then renamed).

Example:

>>> extract_member("pretrained_models.tar", "checkpoints/horse2zebra_cut_pretrained/latest_net_G.pth",
...                "cache/horse2zebra_cut_pretrained/latest_net_G.pth")  # doctest: +SKIP
"""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

from tfgan_translate.io import atomic_file

MAX_MEMBER_BYTES = 1 << 30  # a resnet_9blocks generator is ~45.5 MB


class ArchiveError(ValueError):
    """The archive is no tar, or its member is missing, not a regular file, or too large; one line says which."""


def extract_member(archive, member: str, target, max_bytes: int = MAX_MEMBER_BYTES) -> Path:
    """Copies `member` of the tar `archive` to `target` and returns `target`.

    Args:
        archive: str or path-like. An uncompressed tar file.
        member: str. The member's name inside it.
        target: str or path-like. Where to write its bytes (parent folders are created).
        max_bytes: int. The largest member accepted. Defaults to `MAX_MEMBER_BYTES`.

    Raises:
        ArchiveError: `archive` is no tar file, holds no regular file `member`, or the member is larger than
            `max_bytes`; nothing is written.
    """
    try:
        with tarfile.open(archive, "r:") as tar:
            try:
                info = tar.getmember(member)
            except KeyError:
                raise ArchiveError(f"The archive {archive} holds no {member}.") from None
            if not info.isreg():
                raise ArchiveError(f"The archive {archive} holds {member} as a {_kind(info)}, not a regular file.")
            if info.size > max_bytes:
                raise ArchiveError(f"The archive {archive} holds {member} of {info.size} bytes; at most {max_bytes} "
                                   "are accepted.")
            with tar.extractfile(info) as source, atomic_file(target) as tmp, open(tmp, "wb") as sink:
                shutil.copyfileobj(source, sink)
    except tarfile.TarError as error:
        raise ArchiveError(f"The file {archive} is no tar archive ({error}).") from None
    return Path(target)


def _kind(info: tarfile.TarInfo) -> str:
    return "symbolic link" if info.issym() else "hard link" if info.islnk() else "folder" if info.isdir() else \
        "device or pipe"


__all__ = ["MAX_MEMBER_BYTES", "ArchiveError", "extract_member"]
