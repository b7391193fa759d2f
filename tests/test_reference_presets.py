"""Presets: the reference's pretrained table, `from_preset` by name, the get_file cache, offline and bad downloads.

No network: every address is 127.0.0.1, a server started here (the table's entries pointed at it, their files the
tiny committed fixtures: the real horse2zebra is 45.5 MB) or a port nothing listens on.
"""

from __future__ import annotations

import dataclasses
import hashlib
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from test_reference_import import FIXTURES, eval_output, fixture, max_diff

from tfgan_translate.config import CONFIG_CLASSES
from tfgan_translate.models.cycle_gan import CycleGAN
from tfgan_translate.models.pix2pix import Pix2Pix
from tfgan_translate.networks import ResNetGenerator, UNetGenerator
from tfgan_translate.reference import DownloadError, import_reference
from tfgan_translate.reference.presets import PRESETS, get_preset, preset_names
from tfgan_translate.training.run import load_run

ROOT = Path(__file__).resolve().parents[1]
TOLERANCE = 1e-4
RESNET = {"netG": "resnet_2blocks", "ngf": 2}  # resnet2_instance.pth: what the served CycleGAN presets hold
UNET = {"netG": "unet_64", "ngf": 1, "input_channels": 1, "output_channels": 1}  # unet64_batch_dropout.pth


# === The table ===


def test_table_has_the_references_23_generators_with_unique_names():
    assert len(preset_names()) == 29 == len(set(preset_names()))  # with the CUT authors' 6 (test_cut_presets.py)
    assert len(preset_names("cyclegan")) == 18 and len(preset_names("pix2pix")) == 5
    assert preset_names("pix2pix") == ["pix2pix_edges2shoes", "pix2pix_sat2map", "pix2pix_map2sat",
                                       "pix2pix_facades_label2photo", "pix2pix_day2night"]
    for name in ("horse2zebra", "zebra2horse", "style_vangogh", "iphone2dslr_flower", "sat2map",
                 "facades_label2photo", "cityscapes_photo2label"):
        assert get_preset(name).family == "cyclegan"


def test_urls_are_built_as_the_reference_scripts_build_them():
    host = "http://efrosgans.eecs.berkeley.edu"
    assert get_preset("horse2zebra").url == f"{host}/cyclegan/pretrained_models/horse2zebra.pth"
    assert get_preset("pix2pix_sat2map").url == f"{host}/pix2pix/models-pytorch/sat2map.pth"
    assert all(p.url.endswith(f"/{p.reference_name}.pth") and p.sha256 is None and p.member is None
               for p in PRESETS.values() if p.family != "cut")


def test_every_entry_builds_a_valid_config():
    cyc, p2p = get_preset("style_monet"), get_preset("pix2pix_facades_label2photo")
    assert (cyc.architecture["netG"], cyc.architecture["norm"], cyc.architecture["dropout"], cyc.direction) == (
        "resnet_9blocks", "instance", 0.0, "BtoA")
    assert (p2p.architecture["netG"], p2p.architecture["norm"], p2p.architecture["dropout"], p2p.direction) == (
        "unet_256", "batch", 0.5, "BtoA")
    for preset in PRESETS.values():
        config = CONFIG_CLASSES[preset.family](**preset.architecture, direction=preset.direction)
        assert config.netG == preset.architecture["netG"]


def test_unknown_name_suggests_the_closest_and_lists_all():
    with pytest.raises(ValueError, match=r"Did you mean 'horse2zebra' or 'horse2zebra_cut'") as info:
        get_preset("horse2zebr")
    assert "Received: preset='horse2zebr'" in str(info.value) and "pix2pix_day2night" in str(info.value)
    with pytest.raises(ValueError, match="pix2pix_edges2shoes"):
        ResNetGenerator.from_preset("edges2shoes")
    with pytest.raises(FileNotFoundError, match="missing.pth"):
        ResNetGenerator.from_preset("checkpoints/missing.pth")


def pretrained_table_markdown() -> str:
    """docs/pretrained.md's table of the pretrained generators, from tfgan_translate.reference.presets."""
    rows = ["| name | does | dataset | direction | netG | norm | dropout |", "|---|---|---|---|---|---|---|"]
    for name in preset_names():
        p = get_preset(name)
        a = p.architecture
        rows.append(f"| `{name}` | {p.description} | {p.dataset} | {p.direction} | {a['netG']} | {a['norm']} | "
                    f"{a['dropout']} |")
    return "\n".join(rows)


def test_the_docs_list_the_pretrained_table():
    assert pretrained_table_markdown() in (ROOT / "docs" / "pretrained.md").read_text(), (
        "docs/pretrained.md's table is out of date: paste tests/test_reference_presets.py::pretrained_table_markdown()")


# === A local server for the table's files ===


class _Serve(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.requests.append(self.path)
        body = self.server.files.get(self.path)
        self.send_response(200 if body is not None else 404)
        body = body if body is not None else b"not here"
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Serve)
    srv.daemon_threads, srv.requests, srv.files = True, [], {}
    srv.base = f"http://127.0.0.1:{srv.server_address[1]}"
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=5)


def serve(monkeypatch, server, name, fixture_name="resnet2_instance", architecture=None, payload=None, **changes):
    """Points preset `name` at the server, which serves `payload` (default: the fixture's file) for it."""
    preset = PRESETS[name]
    url = f"{server.base}/{preset.family}/{preset.reference_name}.pth"
    server.files[url[len(server.base):]] = payload if payload is not None else (
        FIXTURES / f"{fixture_name}.pth").read_bytes()
    arch = {**preset.architecture, **(architecture or (RESNET if preset.family == "cyclegan" else UNET))}
    monkeypatch.setitem(PRESETS, name, dataclasses.replace(preset, url=url, architecture=arch, **changes))
    return PRESETS[name]


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/horse2zebra.pth"


# === from_preset by name ===


def test_from_preset_downloads_once_into_the_cache(server, monkeypatch, tmp_path):
    serve(monkeypatch, server, "horse2zebra")
    monkeypatch.setenv("TFGAN_TRANSLATE_DATA", str(tmp_path))
    _, x, y, _ = fixture("resnet2_instance")
    for _ in range(2):
        g = ResNetGenerator.from_preset("horse2zebra")
        assert isinstance(g, ResNetGenerator) and max_diff(eval_output(g, x), y) <= TOLERANCE
    assert len(server.requests) == 1  # the second call found the file in the cache
    cached = tmp_path / "pretrained" / "horse2zebra_pretrained" / "latest_net_G.pth"
    assert cached.read_bytes() == (FIXTURES / "resnet2_instance.pth").read_bytes()
    g = ResNetGenerator.from_preset("horse2zebra", cache_dir=tmp_path / "other", name="h2z")
    assert g.name == "h2z" and len(server.requests) == 2 and (tmp_path / "other" / "horse2zebra_pretrained").is_dir()


def test_wrong_family_and_architecture_arguments_fail_before_downloading(server, monkeypatch, tmp_path):
    serve(monkeypatch, server, "horse2zebra")
    with pytest.raises(ValueError, match=r"^Invalid value for argument `preset`. Received: preset='horse2zebra', which "
                                         r"holds a resnet_2blocks network. .*ResNetGenerator.from_preset\.$"):
        UNetGenerator.from_preset("horse2zebra", cache_dir=tmp_path)
    with pytest.raises(ValueError, match="UNetGenerator.from_preset"):
        ResNetGenerator.from_preset("pix2pix_facades_label2photo", cache_dir=tmp_path)
    with pytest.raises(ValueError, match=r"\['ngf'\]: the preset 'horse2zebra' sets the architecture"):
        ResNetGenerator.from_preset("horse2zebra", cache_dir=tmp_path, ngf=4)
    assert server.requests == []


def test_offline_fails_within_seconds_with_one_line(monkeypatch, tmp_path):
    url = closed_port_url()
    monkeypatch.setitem(PRESETS, "horse2zebra", dataclasses.replace(PRESETS["horse2zebra"], url=url))
    start = time.monotonic()
    with pytest.raises(DownloadError) as info:
        ResNetGenerator.from_preset("horse2zebra", cache_dir=tmp_path)
    assert time.monotonic() - start < 5
    message = str(info.value)
    assert url in message and "from_preset('PATH.pth')" in message and "tfgan-translate import PATH.pth" in message
    assert "\n" not in message and isinstance(info.value, OSError)
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_an_http_error_names_the_address(server, monkeypatch, tmp_path):
    preset = serve(monkeypatch, server, "horse2zebra")
    server.files.clear()
    with pytest.raises(DownloadError, match=rf"{preset.url}: HTTP Error 404"):
        ResNetGenerator.from_preset("horse2zebra", cache_dir=tmp_path)
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_an_error_page_is_never_kept_in_the_cache(server, monkeypatch, tmp_path):
    preset = serve(monkeypatch, server, "pix2pix_day2night", payload=b"<!DOCTYPE html><title>Moved</title>")
    with pytest.raises(DownloadError, match=rf"downloaded from {preset.url} is no PyTorch checkpoint"):
        UNetGenerator.from_preset("pix2pix_day2night", cache_dir=tmp_path)
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_a_cut_file_in_the_cache_is_removed_then_downloaded_again(server, monkeypatch, tmp_path):
    serve(monkeypatch, server, "horse2zebra")
    cached = tmp_path / "horse2zebra_pretrained" / "latest_net_G.pth"
    cached.parent.mkdir(parents=True)
    cached.write_bytes((FIXTURES / "resnet2_instance.pth").read_bytes()[:1000])  # a transfer killed mid-way
    with pytest.raises(DownloadError, match="removed from the cache"):
        ResNetGenerator.from_preset("horse2zebra", cache_dir=tmp_path)
    assert not cached.exists() and server.requests == []
    ResNetGenerator.from_preset("horse2zebra", cache_dir=tmp_path)
    assert len(server.requests) == 1 and cached.is_file()


def test_the_hash_is_checked_when_the_table_has_one(server, monkeypatch, tmp_path):
    digest = hashlib.sha256((FIXTURES / "resnet2_instance.pth").read_bytes()).hexdigest()
    serve(monkeypatch, server, "horse2zebra", sha256="0" * 64)
    with pytest.raises(DownloadError, match="hash does not match") as info:
        ResNetGenerator.from_preset("horse2zebra", cache_dir=tmp_path)
    assert "\n" not in str(info.value)
    assert not any(p.is_file() for p in tmp_path.rglob("*"))  # nothing kept
    serve(monkeypatch, server, "horse2zebra", sha256=digest)
    ResNetGenerator.from_preset("horse2zebra", cache_dir=tmp_path)
    cached = tmp_path / "horse2zebra_pretrained" / "latest_net_G.pth"
    cached.write_bytes(b"corrupted")  # a cached file that fails its hash is downloaded again
    ResNetGenerator.from_preset("horse2zebra", cache_dir=tmp_path)
    assert len(server.requests) == 3 and hashlib.sha256(cached.read_bytes()).hexdigest() == digest


# === Models by name ===


def test_cyclegan_from_preset_takes_the_inverse_generator_too(server, monkeypatch, tmp_path):
    serve(monkeypatch, server, "horse2zebra")
    serve(monkeypatch, server, "zebra2horse")
    with pytest.raises(ValueError, match="image_size=16"):  # the config is checked before any download
        CycleGAN.from_preset("horse2zebra", cache_dir=tmp_path, image_size=16)
    assert server.requests == []
    model = CycleGAN.from_preset("horse2zebra", cache_dir=tmp_path, image_size=32)
    _, x, y, _ = fixture("resnet2_instance")
    assert max_diff(eval_output(model.generator_g, x), y) <= TOLERANCE
    assert max_diff(eval_output(model.generator_f, x), y) <= TOLERANCE
    assert sorted(server.requests) == ["/cyclegan/horse2zebra.pth", "/cyclegan/zebra2horse.pth"]
    assert not model.compiled and model.discriminator_a is not None


def test_pix2pix_from_preset_has_a_fresh_discriminator(server, monkeypatch, tmp_path):
    serve(monkeypatch, server, "pix2pix_facades_label2photo", fixture_name="unet64_batch_dropout")
    model = Pix2Pix.from_preset("pix2pix_facades_label2photo", cache_dir=tmp_path, lambda_l1=50.0)
    _, x, y, _ = fixture("unet64_batch_dropout")
    assert max_diff(eval_output(model.generator, x), y) <= TOLERANCE
    assert model.discriminator.input_shape[-1] == 2 and model.lambda_l1 == 50.0 and not model.compiled


# === Run folders by name ===


def test_import_reference_of_a_preset(server, monkeypatch, tmp_path):
    preset = serve(monkeypatch, server, "horse2zebra")
    result = import_reference("horse2zebra", tmp_path / "run", cache_dir=tmp_path / "cache")
    assert result.config.netG == "resnet_2blocks" and result.config.direction == "AtoB"
    generator = result.provenance["networks"]["generator"]
    assert generator["source"] == preset.url and generator["file"]["sha256"] == hashlib.sha256(
        server.files["/cyclegan/horse2zebra.pth"]).hexdigest()
    assert result.provenance["pretrained"]["name"] == "horse2zebra" and result.provenance["kind"] == "pretrained"
    _, x, y, _ = fixture("resnet2_instance")
    assert max_diff(eval_output(load_run(tmp_path / "run")[1].generator, x), y) <= TOLERANCE


def test_import_offline_fails_fast_and_writes_nothing(monkeypatch, tmp_path, capsys):
    from tfgan_translate.app.cli import main

    url = closed_port_url()
    monkeypatch.setitem(PRESETS, "horse2zebra", dataclasses.replace(PRESETS["horse2zebra"], url=url))
    monkeypatch.setenv("TFGAN_TRANSLATE_DATA", str(tmp_path / "cache"))
    start = time.monotonic()
    assert main(["import", "--pretrained", "horse2zebra", "--out", str(tmp_path / "run")]) == 4
    assert time.monotonic() - start < 10
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and url in lines[0] and "PATH.pth" in lines[0], lines
    assert not (tmp_path / "run").exists()


def test_cli_import_of_a_preset(server, monkeypatch, tmp_path, capsys):
    from tfgan_translate.app.cli import main

    serve(monkeypatch, server, "style_monet")
    monkeypatch.setenv("TFGAN_TRANSLATE_DATA", str(tmp_path / "cache"))
    assert main(["-q", "import", "--pretrained", "style_monet", "--out", str(tmp_path / "run")]) == 0
    config, _ = load_run(tmp_path / "run")
    assert config.direction == "BtoA" and config.netG == "resnet_2blocks" and "style_monet" in capsys.readouterr().out
