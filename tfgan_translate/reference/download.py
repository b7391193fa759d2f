"""Downloading files (the reference's pretrained generators) safely: resumable, verified, atomic.

`download(url, dest)` streams to `dest.partial`, resumes an interrupted transfer with an HTTP Range
request, checks the size and SHA-256 when they are known, and only then renames the file to `dest`,
so that a file at `dest` is always complete. `cached_pretrained(name)` does that for one of the
reference's pretrained generators (`tfgan_translate.reference.pretrained`) into a cache folder:
`$TFGAN_TRANSLATE_DATA/pretrained` if that variable is set, else `~/.cache/tfgan_translate/pretrained`
(the same root as the built-in datasets, see `tfgan_translate.training.run.default_data_home`).

Plain `urllib` (no third-party client): the proxy variables (`http_proxy`, `https_proxy`, `no_proxy`)
and redirects work as urllib handles them.

The HTTP transfer itself (Range requests, the body loop, `DownloadError`) lives in
`tfgan_translate.reference.http_transfer` and the progress bar in `tfgan_translate.reference.progress`;
the public names of both are importable from this module.

Example:

>>> from tfgan_translate.reference.download import cached_pretrained
>>> path = cached_pretrained("horse2zebra")  # doctest: +SKIP
>>> path.name  # doctest: +SKIP
'latest_net_G.pth'
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sys
import urllib.parse
from pathlib import Path

from tfgan_translate.reference.http_transfer import (
    CHUNK_SIZE,
    PARTIAL_SUFFIX,
    DownloadError,
    TransferInterrupted,
    transfer,
)
from tfgan_translate.reference.pretrained import PretrainedSpec, pretrained_spec
from tfgan_translate.reference.progress import ProgressBar

__all__ = [
    "CHUNK_SIZE",
    "DEFAULT_TIMEOUT",
    "GENERATOR_FILENAME",
    "PARTIAL_SUFFIX",
    "DownloadError",
    "cached_pretrained",
    "download",
    "pretrained_cache_dir",
]

DEFAULT_TIMEOUT = 10.0  # seconds to wait for the connection and for each read
GENERATOR_FILENAME = "latest_net_G.pth"  # the file name the reference's download scripts save under

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


def pretrained_cache_dir() -> Path:
    """The folder pretrained generators are cached in.

    Returns:
        `$TFGAN_TRANSLATE_DATA/pretrained` when the environment variable is set, else
        `~/.cache/tfgan_translate/pretrained` (the folder need not exist yet).

    Example:

    >>> pretrained_cache_dir().name
    'pretrained'
    """
    root = os.environ.get("TFGAN_TRANSLATE_DATA")
    return (Path(root) if root else Path.home() / ".cache" / "tfgan_translate") / "pretrained"


def _check_arguments(url, expected_size, sha256, timeout, retries) -> str | None:
    scheme = urllib.parse.urlsplit(str(url)).scheme
    if scheme not in ("http", "https"):
        raise ValueError(
            f"Invalid value for argument `url`. Received: url={url!r}. Expected an http:// or https:// address."
        )
    if expected_size is not None and (isinstance(expected_size, bool) or not isinstance(expected_size, int)
                                      or expected_size < 0):
        raise ValueError(
            f"Invalid value for argument `expected_size`. Received: expected_size={expected_size!r}. "
            "Expected None or a size in bytes (an integer >= 0)."
        )
    if sha256 is not None and not _HEX64.match(str(sha256)):
        raise ValueError(
            f"Invalid value for argument `sha256`. Received: sha256={sha256!r}. "
            "Expected None or 64 hexadecimal digits."
        )
    if not timeout or timeout <= 0:
        raise ValueError(
            f"Invalid value for argument `timeout`. Received: timeout={timeout!r}. Expected seconds > 0."
        )
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(
            f"Invalid value for argument `retries`. Received: retries={retries!r}. Expected an integer >= 0."
        )
    return None if sha256 is None else str(sha256).lower()


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify(path: Path, expected_size: int | None, sha256: str | None, check) -> str | None:
    """Why the file at `path` is not the expected one, or None if it passes every known check."""
    size = path.stat().st_size
    if expected_size is not None and size != expected_size:
        return f"expected {expected_size} bytes, received {size} bytes"
    if sha256 is not None:
        got = _sha256_of(path)
        if got != sha256:
            return f"expected SHA-256 {sha256}, received {got}"
    if check is not None:
        return check(path)
    return None


@contextlib.contextmanager
def _locked(f, path: Path, url: str):
    """Holds an exclusive lock on the open partial file (POSIX), so two processes never write it at once."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks, no protection against concurrent downloads
        yield
        return
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        raise DownloadError(
            f"Another process is downloading to {path} (it holds a lock on it); wait for it to finish.",
            url=url, path=path,
        ) from e
    try:
        yield
    finally:
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def _fetch(url: str, dest: Path, *, expected_size: int | None, sha256: str | None, progress: bool, timeout: float,
           retries: int, check=None, hint: str, label: str | None = None) -> Path:
    """`download`, with a format `check(path) -> problem or None` and the offline `hint` to print."""
    sha256 = _check_arguments(url, expected_size, sha256, timeout, retries)
    dest = Path(dest).expanduser()
    if dest.is_dir():
        raise DownloadError(f"Cannot download {url} to {dest}: it is a folder; pass a file path.", url=url, path=dest)
    if dest.exists():
        problem = _verify(dest, expected_size, sha256, check)
        if problem is None:
            return dest  # already there and as expected (or nothing is known to check it against)
        if progress:
            sys.stderr.write(f"{dest} is not the expected file ({problem}); downloading it again.\n")
        dest.unlink()

    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + PARTIAL_SUFFIX)
    meta_path = dest.with_name(dest.name + PARTIAL_SUFFIX + ".json")
    bar = ProgressBar(label or dest.name, progress)

    with open(partial, "a+b") as f, _locked(f, partial, url):
        attempts = 0
        while True:
            try:
                received_sha256 = transfer(url, f, partial, meta_path, sha256 is not None, expected_size, timeout,
                                           bar, hint)
                break
            except TransferInterrupted as e:
                attempts += 1
                if attempts > retries:
                    bar.finish(ok=False)
                    raise DownloadError(
                        f"Download of {url} was interrupted ({e}); {os.fstat(f.fileno()).st_size} bytes are kept in "
                        f"{partial} and the next call resumes from there.", url=url, path=dest,
                    ) from None
            except BaseException:
                bar.finish(ok=False)
                if os.fstat(f.fileno()).st_size == 0:  # nothing worth resuming: leave no empty partial file behind
                    partial.unlink(missing_ok=True)
                    meta_path.unlink(missing_ok=True)
                raise
        f.flush()
        os.fsync(f.fileno())

        problem = None
        size = os.fstat(f.fileno()).st_size
        if expected_size is not None and size != expected_size:
            problem = f"expected {expected_size} bytes, received {size} bytes"
        elif sha256 is not None and received_sha256 != sha256:
            problem = f"expected SHA-256 {sha256}, received {received_sha256}"
        elif check is not None:
            problem = check(partial)
        if problem is not None:
            bar.finish(ok=False)
            partial.unlink(missing_ok=True)
            meta_path.unlink(missing_ok=True)
            raise DownloadError(
                f"Downloaded file {dest.name} from {url} failed verification: {problem}. Nothing was kept; "
                "a later call downloads it again.", url=url, path=dest,
            )
        os.replace(partial, dest)  # atomic: `dest` is only ever a complete, verified file
    meta_path.unlink(missing_ok=True)
    bar.finish(ok=True)
    return dest


def download(url: str, dest: str | os.PathLike, *, expected_size: int | None = None, sha256: str | None = None,
             progress: bool = True, timeout: float = DEFAULT_TIMEOUT, retries: int = 2) -> Path:
    """Downloads `url` to `dest`, resuming, verifying and renaming atomically.

    The body streams into `dest.partial`. A partial file left by an interrupted call is resumed with an
    HTTP Range request (validated with If-Range when the server sent an ETag or Last-Modified); a server
    that ignores Range (answers 200) is read from the start again. Once complete, the file is checked
    against `expected_size` and `sha256` when given, and only then renamed to `dest`, so `dest` never
    holds a partial or unverified file. A file already at `dest` that passes the checks is returned
    without any request (with neither check given, any existing file is taken as it is).

    Args:
        url: str. An http:// or https:// address.
        dest: str or path-like. The file to write; its folder is created.
        expected_size: int or None. Size in bytes the file must have. Defaults to None (not checked;
            the transfer is still checked against the server's Content-Length).
        sha256: str or None. SHA-256 the file must have (hex). Defaults to None (not checked).
        progress: bool. Show a progress bar on stderr when it is a terminal, else print one line when
            done. Defaults to True.
        timeout: float. Seconds to wait for the connection and for each read, so an offline machine
            or an unreachable server fails within seconds (name resolution runs under the system's
            own resolver timeout). Defaults to 10.
        retries: int. How many times one call resumes after the connection drops mid-transfer.
            Defaults to 2.

    Returns:
        The Path of the complete file (`dest`).

    Raises:
        DownloadError: the server is unreachable (one line naming the address and how to pass a local
            file instead), answered with an HTTP error, dropped the connection more than `retries`
            times (the partial file is kept for the next call), or the file fails its size or SHA-256
            check (expected and received values named; nothing is kept).
        ValueError: for an invalid argument.

    Example:

    >>> download("https://example.org/model.pth", "model.pth", expected_size=45_500_000)  # doctest: +SKIP
    PosixPath('model.pth')
    """
    hint = ("Download the file elsewhere and pass it instead, e.g. `tfgan-translate import PATH.pth --netG ... "
            "--norm ...`.")
    return _fetch(url, Path(dest), expected_size=expected_size, sha256=sha256, progress=progress, timeout=timeout,
                  retries=retries, hint=hint)


def _check_torch_file(path: Path) -> str | None:
    """None if `path` starts like a PyTorch file (a zip archive, or a legacy pickle stream), else why not."""
    with open(path, "rb") as f:
        head = f.read(16)
    if head.startswith(b"PK\x03\x04") or head[:1] == b"\x80":
        return None
    return (f"it does not look like a PyTorch checkpoint (it starts with {head!r}; the server may have sent "
            "an error page)")


def cached_pretrained(name: str, *, cache_dir: str | os.PathLike | None = None, progress: bool = True,
                      timeout: float = DEFAULT_TIMEOUT) -> Path:
    """The local file of one of the reference's pretrained generators, downloading it once.

    The file is kept as `CACHE/<name>_pretrained/latest_net_G.pth`, the layout of the reference's
    `checkpoints/` folder, so `find_checkpoints` (and the reference itself, with `--checkpoints_dir CACHE`)
    read it. A cached file is verified (size and SHA-256 where the table knows them, which it does not
    yet: see `tfgan_translate.reference.pretrained`) and reused; a download is also checked to start
    like a PyTorch file, so an error page is never cached.

    Args:
        name: str. A name from `pretrained_names()`, or `family/name` (`"pix2pix/sat2map"`).
        cache_dir: str, path-like or None. The cache folder. Defaults to None: `pretrained_cache_dir()`,
            i.e. `$TFGAN_TRANSLATE_DATA/pretrained` or `~/.cache/tfgan_translate/pretrained`.
        progress: bool. Show download progress on stderr. Defaults to True.
        timeout: float. Seconds to wait for the connection and for each read. Defaults to 10.

    Returns:
        The Path of the `.pth` file.

    Raises:
        ValueError: for an unknown name (the message suggests the closest ones).
        DownloadError: when the download fails; offline, the message names the address and the
            `tfgan-translate import PATH.pth --netG ... --norm ...` command to use a local copy instead.

    Example:

    >>> path = cached_pretrained("pix2pix_facades_label2photo")  # doctest: +SKIP
    >>> path.parent.name  # doctest: +SKIP
    'pix2pix_facades_label2photo_pretrained'
    """
    spec: PretrainedSpec = pretrained_spec(name)
    root = Path(cache_dir).expanduser() if cache_dir is not None else pretrained_cache_dir()
    dest = root / f"{spec.name}_pretrained" / GENERATOR_FILENAME
    hint = (f"Download it elsewhere and pass the local file instead: `tfgan-translate import PATH.pth "
            f"--netG {spec.netG} --norm {spec.norm}`.")
    return _fetch(spec.url, dest, expected_size=spec.expected_size, sha256=spec.sha256, progress=progress,
                  timeout=timeout, retries=2, check=_check_torch_file, hint=hint, label=spec.name)
