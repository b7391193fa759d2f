"""Exporting again never loses a user's files, and a killed export's staging folders are cleaned up (issue 16).

Each test uses only `export_generator`'s public behaviour, so it runs (and fails) on the code before the fix too.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from tfgan_translate.export import export_generator
from tfgan_translate.export import tflite as tflite_module
from tfgan_translate.io import temporary_path
from tfgan_translate.networks import UNetGenerator

SIZE = 32


@pytest.fixture(scope="module")
def generator():
    return UNetGenerator(depth=5, ngf=4)


@pytest.fixture(scope="module")
def dead_pid() -> int:
    """The PID of a process that has exited (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _export(generator, out, **kwargs):
    return export_generator(generator, out, saved_model=False, image_size=SIZE, **kwargs)


@pytest.fixture(scope="module")
def first_export(generator, tmp_path_factory):
    """One `_export(generator, ...)` (float32), converted once; each test starts from a copy of it."""
    out = tmp_path_factory.mktemp("first") / "exp"
    _export(generator, out)
    return out


def _earlier_export(first_export, out):
    """What `_export(generator, out)` writes, without converting again: a copy of `first_export` at `out`."""
    shutil.copytree(first_export, out, symlinks=True)
    assert sorted(p.name for p in out.iterdir()) == ["generator_float32.tflite", "metadata.json"]


def test_reexport_keeps_the_files_the_export_did_not_write(generator, first_export, tmp_path):
    out = tmp_path / "exp"
    _earlier_export(first_export, out)
    (out / "NOTES.txt").write_text("trained on the March photos")
    (out / "samples").mkdir()
    (out / "samples" / "a.png").write_bytes(b"a user's picture")
    (out / "latest").symlink_to("generator_float32.tflite")

    result = _export(generator, out, quantize="float16")

    assert (out / "NOTES.txt").read_text() == "trained on the March photos"
    assert (out / "samples" / "a.png").read_bytes() == b"a user's picture"
    assert os.readlink(out / "latest") == "generator_float32.tflite"
    assert not (out / "generator_float32.tflite").exists()  # the earlier export's own file: replaced
    assert (out / "generator_float16.tflite").is_file()
    assert sorted(result.kept) == ["NOTES.txt", "latest", "samples/"]
    assert "NOTES.txt" in result.summary()
    listed = json.loads((out / "metadata.json").read_text())["files"]
    assert listed == ["generator_float16.tflite", "metadata.json"]  # the user's files are not listed as ours
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp"]  # no staging or old folder left

    _export(generator, out)  # and again: still kept
    assert (out / "NOTES.txt").read_text() == "trained on the March photos"
    assert sorted(p.name for p in out.iterdir()) == ["NOTES.txt", "generator_float32.tflite", "latest",
                                                     "metadata.json", "samples"]


def test_reexport_refuses_to_replace_a_file_of_the_users(generator, first_export, tmp_path, monkeypatch):
    out = tmp_path / "exp"
    _earlier_export(first_export, out)
    (out / "generator_float16.tflite").write_bytes(b"my own conversion")

    def never(*args, **kwargs):
        raise AssertionError("converted before refusing")

    monkeypatch.setattr(tflite_module, "convert", never)
    with pytest.raises(ValueError, match=r"generator_float16\.tflite.*did not write.*move or rename it"):
        _export(generator, out, quantize="float16")
    assert (out / "generator_float16.tflite").read_bytes() == b"my own conversion"
    assert (out / "generator_float32.tflite").is_file()


def test_an_interrupted_reexport_keeps_the_earlier_export_and_the_users_files(generator, first_export, tmp_path,
                                                                              monkeypatch):
    out = tmp_path / "exp"
    _earlier_export(first_export, out)
    (out / "NOTES.txt").write_text("mine")
    before = sorted(p.name for p in out.iterdir())

    def broken(*args, **kwargs):
        raise KeyboardInterrupt  # Ctrl-C half-way through the conversion

    monkeypatch.setattr(tflite_module, "convert", broken)
    with pytest.raises(KeyboardInterrupt):
        _export(generator, out)
    assert sorted(p.name for p in out.iterdir()) == before and (out / "NOTES.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp"]


def test_stale_staging_folders_of_dead_processes_are_removed(generator, first_export, tmp_path, dead_pid):
    out = tmp_path / "exp"
    _earlier_export(first_export, out)
    stale = [temporary_path(out, pid=dead_pid), temporary_path(out, "old", pid=dead_pid),
             temporary_path(tmp_path / "other", pid=dead_pid)]  # another export's, in the same parent
    for folder in stale:
        folder.mkdir()
        (folder / "generator_float32.tflite").write_bytes(b"\0" * 1000)  # model-sized, in real life
    live = temporary_path(out)  # an export running now: left alone
    live.mkdir()
    mine = tmp_path / ".exp.tmp-notes"  # not a name an export makes
    mine.mkdir()

    _export(generator, out)

    assert not any(folder.exists() for folder in stale)
    assert live.is_dir() and mine.is_dir()
    assert (out / "metadata.json").is_file()


def test_an_export_killed_between_its_renames_is_put_back(generator, first_export, tmp_path, dead_pid):
    out = tmp_path / "exp"
    _earlier_export(first_export, out)
    (out / "NOTES.txt").write_text("mine")
    # What `kill -9` between "rename OUT aside" and "rename staging to OUT" leaves: no OUT, two hidden folders.
    out.rename(temporary_path(out, "old", pid=dead_pid))
    temporary_path(out, pid=dead_pid).mkdir()

    _export(generator, out, quantize="float16")

    assert (out / "NOTES.txt").read_text() == "mine"
    assert (out / "generator_float16.tflite").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp"]


def test_the_docs_and_load_export_say_a_saved_model_is_a_program():
    from pathlib import Path

    from tfgan_translate.export import load_export

    export_section = (Path(__file__).parents[1] / "docs" / "export.md").read_text()
    assert "Only load exports you trust" in export_section and "SavedModel is a program" in export_section
    assert "tf.io.write_file" in export_section and ".tflite` file is data" in export_section
    assert "SavedModel is a program" in load_export.__doc__ and "you made or trust" in load_export.__doc__
