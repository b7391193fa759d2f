"""The CUT authors' six pretrained generators as presets: one tar, each member copied out of it safely.

No network: the table's archive address is pointed at a local server (tests/test_reference_presets.py's) that
serves a tar built here around the tiny CUT fixture generator (tests/fixtures/cut/run/5_net_G.pth, whose
authors' eval-mode output is in cut_outputs.npz); the real archive holds resnet_9blocks generators.
"""

from __future__ import annotations

import dataclasses
import io
import os
import socket
import tarfile
from pathlib import Path

import numpy as np
import pytest
from test_reference_presets import server  # noqa: F401 (the fixture)

from tfgan_translate.config import CUTConfig
from tfgan_translate.models.cut import CUT
from tfgan_translate.models.pix2pix import Pix2Pix
from tfgan_translate.networks import ResNetGenerator
from tfgan_translate.reference import DownloadError
from tfgan_translate.reference.archive import ArchiveError, extract_member
from tfgan_translate.reference.presets import CUT_ARCHIVE, PRESETS, get_preset, preset_names
from tfgan_translate.training.run import load_run

CUT_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "cut"
GENERATOR = (CUT_FIXTURES / "run" / "5_net_G.pth").read_bytes()
TINY = {"netG": "resnet_2blocks", "ngf": 4}  # what 5_net_G.pth holds


def expected_output(g) -> float:
    """max |g(x) - the authors' G(x)| on the fixture's input."""
    outputs = np.load(CUT_FIXTURES / "cut_outputs.npz")
    return float(np.abs(np.asarray(g(outputs["x"].transpose(0, 2, 3, 1))) - outputs["G"].transpose(0, 2, 3, 1)).max())


def tar_of(members: dict) -> bytes:
    """An uncompressed tar: name -> bytes (a regular file) or ("symlink", target)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            if isinstance(content, tuple):
                info.type, info.linkname = tarfile.SYMTYPE, content[1]
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def member(name: str) -> str:
    return f"checkpoints/{name}_pretrained/latest_net_G.pth"


def serve_archive(monkeypatch, server, payload: bytes, names=("horse2zebra_cut", "horse2zebra_fastcut")) -> str:  # noqa: F811
    """Points the CUT presets `names` at the server's copy of the archive (`payload`), tiny architecture."""
    url = f"{server.base}/CUT/pretrained_models.tar"
    server.files["/CUT/pretrained_models.tar"] = payload
    for name in names:
        preset = PRESETS[name]
        monkeypatch.setitem(PRESETS, name, dataclasses.replace(preset, url=url,
                                                               architecture={**preset.architecture, **TINY}))
    return url


def test_table_has_the_authors_six_generators_in_one_archive():
    names = preset_names("cut")
    assert names == ["cityscapes_cut", "cityscapes_fastcut", "horse2zebra_cut", "horse2zebra_fastcut", "cat2dog_cut",
                     "cat2dog_fastcut"]
    assert len(preset_names()) == 29 == len(set(preset_names()))
    for name in names:
        preset = get_preset(name)
        assert preset.url == CUT_ARCHIVE == "http://efrosgans.eecs.berkeley.edu/CUT/pretrained_models.tar"
        assert preset.member == member(name)  # the authors' README: checkpoints/horse2zebra_cut_pretrained/...
        config = CUTConfig(**preset.architecture, direction=preset.direction)
        assert (config.netG, config.ngf, config.norm, config.downsample, config.upsample) == (
            "resnet_9blocks", 64, "instance", "blur", "blur")
    assert get_preset("cityscapes_fastcut").direction == "BtoA" and get_preset("cat2dog_cut").direction == "AtoB"


def test_from_preset_downloads_the_archive_once_and_copies_each_member(server, monkeypatch, tmp_path):  # noqa: F811
    serve_archive(monkeypatch, server, tar_of({member("horse2zebra_cut"): GENERATOR,
                                               member("horse2zebra_fastcut"): GENERATOR,
                                               "checkpoints/other/latest_net_G.pth": b"not ours"}))
    g = ResNetGenerator.from_preset("horse2zebra_cut", cache_dir=tmp_path)
    assert g.downsample == g.upsample == "blur" and expected_output(g) <= 1e-4
    assert expected_output(ResNetGenerator.from_preset("horse2zebra_fastcut", cache_dir=tmp_path)) <= 1e-4
    ResNetGenerator.from_preset("horse2zebra_cut", cache_dir=tmp_path)
    assert socket.getdefaulttimeout() is None  # the download timeout is the caller's again, cached or not
    assert server.requests == ["/CUT/pretrained_models.tar"]  # one download for both presets and the second call
    assert (tmp_path / "horse2zebra_cut_pretrained" / "latest_net_G.pth").read_bytes() == GENERATOR
    assert not list(tmp_path.rglob("other"))  # nothing but the members asked for is written


def test_a_local_cut_generator_file_loads_without_a_preset():
    g = ResNetGenerator.from_preset(CUT_FIXTURES / "run" / "5_net_G.pth")
    assert (g.n_blocks, g.ngf, g.downsample, g.upsample) == (2, 4, "blur", "blur") and expected_output(g) <= 1e-4


def test_cut_from_preset_takes_the_mode_from_the_name(server, monkeypatch, tmp_path):  # noqa: F811
    serve_archive(monkeypatch, server, tar_of({member("horse2zebra_fastcut"): GENERATOR}))
    model = CUT.from_preset("horse2zebra_fastcut", cache_dir=tmp_path)
    assert isinstance(model, CUT) and model.lambda_nce == 10.0 and model.flip_equivariance and not model.nce_idt
    assert expected_output(model.generator) <= 1e-4 and model.discriminator is not None
    with pytest.raises(ValueError, match="a CUT generator. Expected a pix2pix preset; load this one with CUT"):
        Pix2Pix.from_preset("horse2zebra_cut", cache_dir=tmp_path)


def test_cli_import_of_a_cut_preset_writes_a_cut_run(server, monkeypatch, tmp_path, capsys):  # noqa: F811
    from tfgan_translate.app.cli import main

    serve_archive(monkeypatch, server, tar_of({member("horse2zebra_cut"): GENERATOR}))
    monkeypatch.setenv("TFGAN_TRANSLATE_DATA", str(tmp_path / "cache"))
    assert main(["-q", "import", "--pretrained", "horse2zebra_cut", "--out", str(tmp_path / "run")]) == 0
    config, model = load_run(tmp_path / "run")
    assert isinstance(config, CUTConfig) and config.mode == "cut" and config.netG == "resnet_2blocks"
    assert expected_output(model.generator) <= 1e-4
    assert "horse2zebra_cut" in capsys.readouterr().out


@pytest.mark.parametrize(("members", "found"), [
    ({member("horse2zebra_cut"): ("symlink", "/etc/passwd")}, "as a symbolic link, not a regular file"),
    ({"checkpoints/elsewhere.pth": GENERATOR}, f"holds no {member('horse2zebra_cut')}"),
    (None, "is no tar archive"),
], ids=["symlink", "missing", "error-page"])
def test_a_hostile_or_wrong_archive_is_refused_in_one_line_and_not_kept(server, monkeypatch, tmp_path, members,  # noqa: F811
                                                                         found):
    payload = tar_of(members) if members else b"<!DOCTYPE html><title>Moved</title>"
    url = serve_archive(monkeypatch, server, payload)
    with pytest.raises(DownloadError) as info:
        ResNetGenerator.from_preset("horse2zebra_cut", cache_dir=tmp_path)
    message = str(info.value)
    assert found in message and url in message and "\n" not in message
    assert f"take {member('horse2zebra_cut')} out of it" in message
    assert not any(p.is_file() or p.is_symlink() for p in tmp_path.rglob("*"))  # neither archive nor member kept


def test_extract_member_bounds_the_size_and_writes_only_the_target(tmp_path):
    archive = tmp_path / "a.tar"
    archive.write_bytes(tar_of({"x/g.pth": b"0123456789", "../escape.pth": b"evil"}))
    with pytest.raises(ArchiveError, match="of 10 bytes; at most 9 are accepted"):
        extract_member(archive, "x/g.pth", tmp_path / "out" / "g.pth", max_bytes=9)
    assert extract_member(archive, "x/g.pth", tmp_path / "out" / "g.pth").read_bytes() == b"0123456789"
    assert sorted(os.listdir(tmp_path)) == ["a.tar", "out"] and os.listdir(tmp_path / "out") == ["g.pth"]
    truncated = tmp_path / "t.tar"
    truncated.write_bytes(archive.read_bytes()[:600])  # the header, then the stream ends inside the member
    with pytest.raises(ArchiveError):
        extract_member(truncated, "x/g.pth", tmp_path / "cut" / "g.pth")
    assert not (tmp_path / "cut").exists() or not any((tmp_path / "cut").iterdir())  # no half-written member
