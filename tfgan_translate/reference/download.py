"""Downloading files (the reference's pretrained generators) safely: resumable, verified, atomic.

`download(url, dest)` streams to `dest.partial`, resumes an interrupted transfer with an HTTP Range
request, checks the size and SHA-256 when they are known, and only then renames the file to `dest`,
so that a file at `dest` is always complete. `cached_pretrained(name)` does that for one of the
reference's pretrained generators (`tfgan_translate.reference.pretrained`) into a cache folder:
`$TFGAN_TRANSLATE_DATA/pretrained` if that variable is set, else `~/.cache/tfgan_translate/pretrained`
(the same root as the built-in datasets, see `tfgan_translate.training.run.default_data_home`).

Plain `urllib` (no third-party client): the proxy variables (`http_proxy`, `https_proxy`, `no_proxy`)
and redirects work as urllib handles them.

Example:

>>> from tfgan_translate.reference.download import cached_pretrained
>>> path = cached_pretrained("horse2zebra")  # doctest: +SKIP
>>> path.name  # doctest: +SKIP
'latest_net_G.pth'
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from tfgan_translate.reference.pretrained import PretrainedSpec, pretrained_spec

DEFAULT_TIMEOUT = 10.0  # seconds to wait for the connection and for each read
CHUNK_SIZE = 1 << 16
PARTIAL_SUFFIX = ".partial"
GENERATOR_FILENAME = "latest_net_G.pth"  # the file name the reference's download scripts save under

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(?:(\d+)-(\d+)|\*)/(\d+|\*)\s*$")


class DownloadError(OSError):
    """A download failed: the server is unreachable, answered with an HTTP error, the connection dropped,
    or the file failed its size, SHA-256 or format check.

    A subclass of OSError, so `except OSError` catches it. The message is one line that names the
    address or file and says what to do. After a dropped connection the partial file is kept (the next
    call resumes it); after a failed check nothing is left behind.

    Attributes:
        url: str or None. The address being downloaded.
        path: Path or None. The destination file.
    """

    def __init__(self, message: str, *, url: str | None = None, path: Path | None = None):
        super().__init__(message)
        self.url = url
        self.path = path

    def __str__(self) -> str:
        return str(self.args[0])


class _Interrupted(Exception):
    """The connection dropped after part of the body arrived (the caller may resume)."""


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


def _human(n: float) -> str:
    """A byte count in decimal units: 512 B, 45.5 MB."""
    if n < 1000:
        return f"{n:.0f} B"
    for unit in ("kB", "MB", "GB"):
        n /= 1000
        if n < 1000 or unit == "GB":
            break
    return f"{n:.1f} {unit}"


class _Progress:
    """A one-line progress bar on stderr when it is a terminal; otherwise one line once done."""

    def __init__(self, label: str, enabled: bool, stream=None):
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.label = label
        self.total: int | None = None
        self.done = 0  # bytes of the file on disk
        self.received = 0  # bytes received by this call (for the rate)
        self.start = time.monotonic()
        self.last = 0.0

    def begin(self, done: int, total: int | None) -> None:
        """A (re)started transfer: `done` bytes are on disk, of `total` (None: unknown)."""
        self.done, self.total = done, total

    def update(self, n: int) -> None:
        self.done += n
        self.received += n
        now = time.monotonic()
        if self.tty and now - self.last >= 0.1:
            self.last = now
            self._draw(now)

    def _rate(self, now: float) -> float:
        return self.received / max(now - self.start, 1e-6)

    def _draw(self, now: float) -> None:
        if self.total:
            width = 30
            filled = min(width, int(width * self.done / self.total))
            bar = "#" * filled + "-" * (width - filled)
            text = f"{self.label} [{bar}] {100 * self.done / self.total:5.1f}% {_human(self.done)}/{_human(self.total)}"
        else:
            text = f"{self.label} {_human(self.done)}"
        self.stream.write(f"\r{text} {_human(self._rate(now))}/s\x1b[K")
        self.stream.flush()

    def finish(self, ok: bool) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if self.tty:
            self._draw(now)
            self.stream.write("\n")
        elif ok:
            self.stream.write(
                f"{self.label}: {_human(self.done)} in {now - self.start:.1f} s ({_human(self._rate(now))}/s)\n"
            )
        self.stream.flush()


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


def _unreachable(url: str, reason, hint: str) -> str:
    host = urllib.parse.urlsplit(url).netloc
    if isinstance(reason, BaseException):
        reason = getattr(reason, "strerror", None) or str(reason) or type(reason).__name__
    return f"Cannot download {url}: {host} is unreachable ({reason}). {hint}"


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


def _read_meta(meta_path: Path, url: str) -> dict:
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) and meta.get("url") == url else {}


def _content_range(value: str | None):
    """(start, end, total) from a Content-Range header; None where a part is '*' or the header is odd."""
    match = _CONTENT_RANGE.match(value or "")
    if match is None:
        return None, None, None
    start, end, total = match.groups()
    to_int = lambda v: None if v in (None, "*") else int(v)  # noqa: E731
    return to_int(start), to_int(end), to_int(total)


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
    bar = _Progress(label or dest.name, progress)

    with open(partial, "a+b") as f, _locked(f, partial, url):
        attempts = 0
        while True:
            try:
                received_sha256 = _transfer(url, f, partial, meta_path, sha256 is not None, expected_size, timeout,
                                            bar, hint)
                break
            except _Interrupted as e:
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


def _transfer(url, f, partial, meta_path, want_sha256, expected_size, timeout, bar, hint) -> str | None:
    """Brings `f` (the open partial file) up to the complete file, resuming it or restarting it from byte 0.

    Returns the SHA-256 (hex) of the complete file when `want_sha256`, else None.
    """
    new_hash = lambda: hashlib.sha256() if want_sha256 else None  # noqa: E731
    f.seek(0, os.SEEK_END)
    have = f.tell()
    if expected_size is not None and have > expected_size:
        f.truncate(0)
        have = 0
    state = new_hash()
    if have and state is not None:  # hash what an earlier attempt already wrote
        f.seek(0)
        for block in iter(lambda: f.read(1 << 20), b""):
            state.update(block)
        f.seek(0, os.SEEK_END)
    done = lambda: state.hexdigest() if state is not None else None  # noqa: E731
    if expected_size is not None and have == expected_size and have:
        return done()  # the partial file is already complete (a previous call stopped before renaming it)

    for _ in range(3):  # a resume request may turn into a restart (server ignored Range, file changed)
        meta = _read_meta(meta_path, url) if have else {}
        headers = {"User-Agent": "tfgan_translate (python urllib)", "Accept-Encoding": "identity"}
        if have:
            headers["Range"] = f"bytes={have}-"
            validator = meta.get("etag") or meta.get("last_modified")
            if validator:
                headers["If-Range"] = validator
        request = urllib.request.Request(url, headers=headers)
        try:
            response = urllib.request.urlopen(request, timeout=timeout)
        except urllib.error.HTTPError as e:
            with e:
                if e.code == 416 and have:  # Range Not Satisfiable: the partial is at, or past, the end
                    _, _, total = _content_range(e.headers.get("Content-Range"))
                    if total == have:
                        return done()
                    f.truncate(0)
                    have, state = 0, new_hash()
                    continue
                raise DownloadError(
                    f"Cannot download {url}: the server answered HTTP {e.code} {e.reason}.", url=url, path=partial,
                ) from None
        except (urllib.error.URLError, http.client.HTTPException, OSError) as e:
            reason = e.reason if isinstance(e, urllib.error.URLError) else e
            raise DownloadError(_unreachable(url, reason, hint), url=url, path=partial) from None

        with response:
            status = response.status
            length = response.headers.get("Content-Length")
            length = int(length) if length and length.isdigit() else None
            if status == 206:
                start, _, total = _content_range(response.headers.get("Content-Range"))
                if start != have:  # not the range asked for: start over without Range
                    f.truncate(0)
                    have, state = 0, new_hash()
                    continue
            elif status == 200:
                if have:  # the server ignored Range (or the file changed): restart from byte 0
                    f.truncate(0)
                    have, state = 0, new_hash()
                total = length
            else:
                raise DownloadError(
                    f"Cannot download {url}: unexpected HTTP status {status}.", url=url, path=partial,
                )
            if expected_size is not None and total is not None and total != expected_size:
                f.truncate(0)
                raise DownloadError(
                    f"Size mismatch for {partial.name[: -len(PARTIAL_SUFFIX)]} from {url}: expected {expected_size} "
                    f"bytes, the server offers {total} bytes. Nothing was kept.", url=url, path=partial,
                )
            meta_path.write_text(json.dumps({
                "url": url, "etag": response.headers.get("ETag"),
                "last_modified": response.headers.get("Last-Modified"),
            }))
            bar.begin(have, total)
            try:
                while True:
                    block = response.read(CHUNK_SIZE)
                    if not block:
                        break
                    f.write(block)
                    if state is not None:
                        state.update(block)
                    have += len(block)
                    bar.update(len(block))
                    if expected_size is not None and have > expected_size:
                        break  # more than expected: the size check after the loop reports it
            except (http.client.HTTPException, OSError) as e:  # IncompleteRead, reset, read timeout
                f.flush()
                raise _Interrupted(f"{type(e).__name__}: {e}" if str(e) else type(e).__name__) from None
            f.flush()
            if total is not None and have < total:
                raise _Interrupted(f"the connection closed after {have} of {total} bytes")
        return done()
    raise DownloadError(f"Cannot download {url}: the server keeps answering with the wrong range.", url=url,
                        path=partial)


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
