"""One HTTP transfer of a download: the request (resuming with Range / If-Range), the body loop, its errors.

`transfer` brings an open `.partial` file up to the complete file, resuming it where the server
honours the Range request and restarting it from byte 0 where it does not (or the file changed).
`tfgan_translate.reference.download` wraps it with the checks, the lock and the atomic rename;
`DownloadError` is importable from there too.

Example:

>>> error = DownloadError("Cannot download http://host/G.pth: the server answered HTTP 404 Not Found.",
...                       url="http://host/G.pth")
>>> isinstance(error, OSError), error.url
(True, 'http://host/G.pth')
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

CHUNK_SIZE = 1 << 16
PARTIAL_SUFFIX = ".partial"

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


class TransferInterrupted(Exception):
    """The connection dropped after part of the body arrived (the caller may resume)."""


def _unreachable(url: str, reason, hint: str) -> str:
    host = urllib.parse.urlsplit(url).netloc
    if isinstance(reason, BaseException):
        reason = getattr(reason, "strerror", None) or str(reason) or type(reason).__name__
    return f"Cannot download {url}: {host} is unreachable ({reason}). {hint}"


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


def transfer(url, f, partial, meta_path, want_sha256, expected_size, timeout, bar, hint) -> str | None:
    """Brings `f` (the open partial file) up to the complete file, resuming it or restarting it from byte 0.

    Args:
        url: str. The http:// or https:// address.
        f: binary file. The partial file, open in "a+b" mode (read back to hash it, appended to).
        partial: Path. The partial file's path, named in errors.
        meta_path: Path. The JSON file next to it that keeps the server's ETag / Last-Modified, sent
            back as If-Range when resuming.
        want_sha256: bool. Hash the file as it is written.
        expected_size: int or None. The size the file must have: a longer partial file is restarted,
            a server offering another size refused.
        timeout: float. Seconds to wait for the connection and for each read.
        bar: ProgressBar. Told of each transfer and block.
        hint: str. What to do instead, appended to the message when the server is unreachable.

    Returns:
        The SHA-256 (hex) of the complete file when `want_sha256`, else None.

    Raises:
        TransferInterrupted: the connection dropped mid-body; what arrived stays in `f`, so calling
            again resumes it.
        DownloadError: the server is unreachable, answered with an HTTP error or an unexpected status,
            offers a size other than `expected_size` (then `f` is emptied), or keeps answering with
            the wrong range.

    Example:

    >>> with open("G.pth.partial", "a+b") as f:  # doctest: +SKIP
    ...     transfer(url, f, Path("G.pth.partial"), Path("G.pth.partial.json"), True, None, 10.0,
    ...              ProgressBar("G.pth", enabled=False), hint="")
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
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
                raise TransferInterrupted(f"{type(e).__name__}: {e}" if str(e) else type(e).__name__) from None
            f.flush()
            if total is not None and have < total:
                raise TransferInterrupted(f"the connection closed after {have} of {total} bytes")
        return done()
    raise DownloadError(f"Cannot download {url}: the server keeps answering with the wrong range.", url=url,
                        path=partial)
