"""The reference's pretrained table and the resumable, verified downloader, against a local HTTP server.

No network: every address is 127.0.0.1 (a server started here, or a port nothing listens on).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tfgan_translate.config import CONFIG_CLASSES
from tfgan_translate.reference import download as download_module
from tfgan_translate.reference.download import DownloadError, cached_pretrained, download, pretrained_cache_dir
from tfgan_translate.reference.options import find_checkpoints
from tfgan_translate.reference.pretrained import PRETRAINED, pretrained_names, pretrained_spec

PAYLOAD = b"PK\x03\x04" + bytes((i * 7 + i // 256) % 256 for i in range(6000))  # starts like a torch zip file
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


class _Handler(BaseHTTPRequestHandler):
    """Serves `server.payload` with Range support; `server.cuts` makes requests stop after N bytes."""

    def log_message(self, *args):  # keep the test output clean
        pass

    def do_GET(self):
        srv = self.server
        srv.requests.append({"path": self.path, "range": self.headers.get("Range"),
                             "if_range": self.headers.get("If-Range")})
        data = srv.payload
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
        if match and not srv.ignore_range:
            start = int(match[1])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", '"v1"')
        self.end_headers()
        cut = srv.cuts.pop(0) if srv.cuts else None
        self.wfile.write(body if cut is None else body[:cut])
        self.wfile.flush()
        self.close_connection = True  # with a cut, the client sees fewer bytes than Content-Length


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    srv.payload, srv.requests, srv.cuts, srv.ignore_range = PAYLOAD, [], [], False
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}/model.pth"
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=5)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the pretrained table ---

def test_table_has_the_references_23_generators_with_unique_names():
    assert len(pretrained_names()) == 23 == len(set(pretrained_names()))
    assert len(pretrained_names("cyclegan")) == 18 and len(pretrained_names("pix2pix")) == 5
    assert pretrained_names("pix2pix") == ["pix2pix_edges2shoes", "pix2pix_sat2map", "pix2pix_map2sat",
                                           "pix2pix_facades_label2photo", "pix2pix_day2night"]
    for name in ("horse2zebra", "zebra2horse", "style_vangogh", "iphone2dslr_flower", "sat2map",
                 "facades_label2photo", "cityscapes_photo2label"):
        assert pretrained_spec(name).family == "cyclegan"


def test_urls_are_built_as_the_reference_scripts_build_them():
    host = "http://efrosgans.eecs.berkeley.edu"
    assert pretrained_spec("horse2zebra").url == f"{host}/cyclegan/pretrained_models/horse2zebra.pth"
    assert pretrained_spec("pix2pix_sat2map").url == f"{host}/pix2pix/models-pytorch/sat2map.pth"
    for spec in PRETRAINED.values():
        assert spec.url.endswith(f"/{spec.reference_name}.pth")
        assert spec.reference_folder == f"{spec.reference_name}_pretrained"


def test_family_slash_name_spelling_and_architectures():
    assert pretrained_spec("cyclegan/sat2map") is pretrained_spec("sat2map")
    assert pretrained_spec("pix2pix/sat2map") is pretrained_spec("pix2pix_sat2map")
    cyc, p2p = pretrained_spec("style_monet"), pretrained_spec("pix2pix/facades_label2photo")
    assert (cyc.netG, cyc.norm, cyc.dropout, cyc.direction) == ("resnet_9blocks", "instance", 0.0, "BtoA")
    assert (p2p.netG, p2p.norm, p2p.dropout, p2p.direction) == ("unet_256", "batch", 0.5, "BtoA")
    assert pretrained_spec("pix2pix_day2night").dataset == "night2day"


def test_every_entry_builds_a_valid_config():
    for spec in PRETRAINED.values():
        config = CONFIG_CLASSES[spec.family](**spec.config_fields())
        assert config.netG == spec.netG and config.norm == spec.norm


def test_unknown_name_suggests_the_closest_and_lists_all():
    with pytest.raises(ValueError, match=r"Did you mean 'horse2zebra'\?") as info:
        pretrained_spec("horse2zebr")
    assert "Received: name='horse2zebr'" in str(info.value) and "pix2pix_day2night" in str(info.value)
    with pytest.raises(ValueError, match="pix2pix_edges2shoes"):
        pretrained_spec("edges2shoes")
    with pytest.raises(ValueError, match="Invalid value for argument `family`"):
        pretrained_names("stylegan")


# --- download ---

def test_download_verifies_and_renames(server, tmp_path):
    dest = tmp_path / "sub" / "model.pth"
    path = download(server.url, dest, expected_size=len(PAYLOAD), sha256=DIGEST.upper(), progress=False)
    assert path == dest and dest.read_bytes() == PAYLOAD
    assert sorted(p.name for p in dest.parent.iterdir()) == ["model.pth"]  # no partial or metadata file left
    assert [r["range"] for r in server.requests] == [None]


def test_interrupted_download_resumes_with_a_range_request(server, tmp_path):
    dest = tmp_path / "model.pth"
    server.cuts = [1000]
    with pytest.raises(DownloadError, match="interrupted") as info:
        download(server.url, dest, sha256=DIGEST, progress=False, retries=0)
    assert "next call resumes" in str(info.value)
    assert not dest.exists()  # a partial download is never taken for the file
    assert (tmp_path / "model.pth.partial").stat().st_size == 1000

    download(server.url, dest, sha256=DIGEST, progress=False)
    assert dest.read_bytes() == PAYLOAD
    assert [r["range"] for r in server.requests] == [None, "bytes=1000-"]
    assert server.requests[1]["if_range"] == '"v1"'  # resumed only if the file is unchanged
    assert not (tmp_path / "model.pth.partial").exists()


def test_one_call_resumes_after_repeated_drops(server, tmp_path):
    server.cuts = [1000, 500]
    download(server.url, tmp_path / "model.pth", expected_size=len(PAYLOAD), progress=False, retries=2)
    assert (tmp_path / "model.pth").read_bytes() == PAYLOAD
    assert [r["range"] for r in server.requests] == [None, "bytes=1000-", "bytes=1500-"]


def test_server_ignoring_range_restarts_from_zero(server, tmp_path):
    server.ignore_range = True
    (tmp_path / "model.pth.partial").write_bytes(b"x" * 1000)  # stale bytes from an earlier attempt
    download(server.url, tmp_path / "model.pth", sha256=DIGEST, progress=False)
    assert (tmp_path / "model.pth").read_bytes() == PAYLOAD
    assert server.requests[0]["range"] == "bytes=1000-"  # asked to resume, got the whole file (200)


def test_complete_partial_file_is_finished_without_a_body(server, tmp_path):
    (tmp_path / "model.pth.partial").write_bytes(PAYLOAD)  # a previous call stopped just before renaming
    download(server.url, tmp_path / "model.pth", progress=False)
    assert (tmp_path / "model.pth").read_bytes() == PAYLOAD
    assert [r["range"] for r in server.requests] == [f"bytes={len(PAYLOAD)}-"]  # answered 416: already complete


def test_checksum_mismatch_keeps_nothing(server, tmp_path):
    dest = tmp_path / "model.pth"
    with pytest.raises(DownloadError) as info:
        download(server.url, dest, sha256="0" * 64, progress=False)
    message = str(info.value)
    assert "model.pth" in message and "expected SHA-256 " + "0" * 64 in message and f"received {DIGEST}" in message
    assert list(tmp_path.iterdir()) == []


def test_size_mismatch_keeps_nothing(server, tmp_path):
    with pytest.raises(DownloadError, match=rf"model.pth .*expected {len(PAYLOAD) + 1} bytes.*{len(PAYLOAD)} bytes"):
        download(server.url, tmp_path / "model.pth", expected_size=len(PAYLOAD) + 1, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_unreachable_address_fails_fast_with_one_clear_line(tmp_path, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    url = f"http://127.0.0.1:{_closed_port()}/model.pth"
    start = time.monotonic()
    with pytest.raises(DownloadError) as info:
        download(url, tmp_path / "model.pth", progress=False, timeout=2)
    assert time.monotonic() - start < 3
    message = str(info.value)
    assert url in message and "unreachable" in message and "tfgan-translate import PATH.pth" in message
    assert "\n" not in message and isinstance(info.value, OSError)
    assert list(tmp_path.iterdir()) == []


def test_file_in_place_is_verified_and_reused_without_a_request(server, tmp_path):
    dest = tmp_path / "model.pth"
    download(server.url, dest, expected_size=len(PAYLOAD), sha256=DIGEST, progress=False)
    download(server.url, dest, expected_size=len(PAYLOAD), sha256=DIGEST, progress=False)
    download(server.url, dest, progress=False)  # nothing to check against: taken as it is
    assert len(server.requests) == 1

    dest.write_bytes(b"corrupted")  # a cached file that fails its check is fetched again
    download(server.url, dest, sha256=DIGEST, progress=False)
    assert dest.read_bytes() == PAYLOAD and len(server.requests) == 2


def test_progress_off_a_terminal_is_one_line(server, tmp_path, monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(download_module.sys, "stderr", err)
    download(server.url, tmp_path / "model.pth", progress=True)
    lines = err.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("model.pth: 6.0 kB in ")


def test_invalid_arguments_are_named(tmp_path):
    with pytest.raises(ValueError, match="Invalid value for argument `url`"):
        download("ftp://127.0.0.1/x.pth", tmp_path / "x.pth")
    with pytest.raises(ValueError, match="Invalid value for argument `sha256`"):
        download("http://127.0.0.1/x.pth", tmp_path / "x.pth", sha256="abc")
    with pytest.raises(ValueError, match="Invalid value for argument `expected_size`"):
        download("http://127.0.0.1/x.pth", tmp_path / "x.pth", expected_size=-1)


# --- cached_pretrained ---

def _serve_spec(monkeypatch, server, name):
    spec = dataclasses.replace(pretrained_spec(name), url=server.url)
    monkeypatch.setattr(download_module, "pretrained_spec", lambda _: spec)
    return spec


def test_cache_folder_follows_tfgan_translate_data(monkeypatch, tmp_path):
    monkeypatch.setenv("TFGAN_TRANSLATE_DATA", str(tmp_path))
    assert pretrained_cache_dir() == tmp_path / "pretrained"
    monkeypatch.delenv("TFGAN_TRANSLATE_DATA")
    assert pretrained_cache_dir().parts[-3:] == (".cache", "tfgan_translate", "pretrained")


def test_cached_pretrained_downloads_once_in_the_references_layout(server, monkeypatch, tmp_path):
    monkeypatch.setenv("TFGAN_TRANSLATE_DATA", str(tmp_path))
    _serve_spec(monkeypatch, server, "horse2zebra")
    path = cached_pretrained("horse2zebra", progress=False)
    assert path == tmp_path / "pretrained" / "horse2zebra_pretrained" / "latest_net_G.pth"
    assert path.read_bytes() == PAYLOAD
    assert cached_pretrained("horse2zebra", progress=False) == path and len(server.requests) == 1
    assert find_checkpoints(path.parent).layout == "single"


def test_cached_pretrained_never_caches_an_error_page(server, monkeypatch, tmp_path):
    server.payload = b"<!DOCTYPE html><title>Moved</title>"
    _serve_spec(monkeypatch, server, "pix2pix_day2night")
    with pytest.raises(DownloadError, match="does not look like a PyTorch checkpoint"):
        cached_pretrained("pix2pix_day2night", cache_dir=tmp_path, progress=False)
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_cached_pretrained_offline_names_the_import_command(monkeypatch, tmp_path):
    spec = dataclasses.replace(pretrained_spec("style_ukiyoe"), url=f"http://127.0.0.1:{_closed_port()}/x.pth")
    monkeypatch.setattr(download_module, "pretrained_spec", lambda _: spec)
    with pytest.raises(DownloadError, match=r"tfgan-translate import PATH.pth --netG resnet_9blocks --norm instance"):
        cached_pretrained("style_ukiyoe", cache_dir=tmp_path, progress=False, timeout=2)
