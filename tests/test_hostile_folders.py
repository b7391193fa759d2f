"""Hostile files and folders (issue 19, items 3 and 4): a `.lock` or a temporary-looking name that is not ours.

- `train` never writes through, creates the target of, or deletes a `.lock` symbolic link: it refuses the
  folder in one line (exit 2), and a `.lock` of another program's is the user's file, not an empty folder's
  bookkeeping;
- at exit only the very file that was locked is removed;
- the stale-temporary sweeps of `export` (OUT's parent) and `train` (the run folder) delete only temporaries
  our own code made, of processes that are gone: a user's `.photos.old-2023` or `.thesis.tmp-4242-draft/`
  stays, a folder holding only such files is not empty, and a refused export or run removes nothing.

The refusals are matched by their built-in bases (FileExistsError, ValueError) so that each test also runs,
and fails, on the code from before these rules.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import keras
import pytest

from tfgan_translate.app.cli import main
from tfgan_translate.config import Pix2PixConfig
from tfgan_translate.export import export_generator
from tfgan_translate.networks import UNetGenerator
from tfgan_translate.training.run import train

TINY = dict(image_size=32, load_size=36, netG="unet_32", ngf=8, ndf=8, epochs=1, steps_per_epoch=2, batch_size=2,
            seed=0, validation_steps=1, precision="float32", strategy="none")
CLI_TINY = ["--image-size", "32", "--load-size", "36", "--netG", "unet_32", "--ngf", "8", "--ndf", "8", "--epochs",
            "1", "--steps-per-epoch", "2", "--batch-size", "2", "--validation-steps", "1", "--precision", "float32",
            "--strategy", "none"]


def _config(data) -> Pix2PixConfig:
    return Pix2PixConfig(data=str(data), **TINY)


def _train_cli(data, out, *flags) -> int:
    return main(["-q", "train", "pix2pix", "--data", str(data), "--out", str(out), *CLI_TINY, *flags])


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err



@pytest.fixture(scope="module")
def dead_pid() -> int:
    """The PID of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture(scope="module")
def generator():
    return UNetGenerator(depth=5, ngf=4)


def _look_alikes(folder: Path, dead_pid: int) -> dict[Path, bytes]:
    """A user's files named like our temporaries (the numbers are dead PIDs), each with its content."""
    files = {
        folder / ".photos.old-2023": b"holiday photos",
        folder / ".thesis.tmp-4242-draft" / "chapter1.tex": b"\\chapter{One}",
        folder / ".x.tmp-999999-deadbeef": b"no check",
        folder / f".photos.old-{dead_pid}": b"more photos",
        folder / f".thesis.tmp-{dead_pid}-draft" / "chapter2.tex": b"\\chapter{Two}",
        folder / f".model.keras.tmp-{dead_pid}-deadbeef.keras": b"our shape before, no check",
        folder / f".exp.tmp-{dead_pid}-deadbeef-0badc0de" / "notes.txt": b"our shape, a wrong check",
    }
    for path, data in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def _unchanged(files: dict[Path, bytes]) -> list[str]:
    return [str(path) for path, data in files.items() if not path.is_file() or path.read_bytes() != data]


# ------------------------------------------------------------------ 3. a .lock that is not ours
def test_a_lock_symlink_to_a_file_is_refused_in_one_line_and_neither_is_touched(synth_dir, tmp_path, capsys):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / ".lock").symlink_to(victim)

    assert _train_cli(synth_dir, folder) == 2
    err = _one_line_error(capsys)
    assert str(folder / ".lock") in err and "symbolic link" in err and "Expected" in err
    assert victim.read_text() == "precious"
    assert os.readlink(folder / ".lock") == str(victim)
    assert sorted(p.name for p in folder.iterdir()) == [".lock"]  # nothing written


def test_a_dangling_lock_symlink_is_refused_and_its_target_not_created(synth_dir, tmp_path):
    target = tmp_path / "created_through_the_link"
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / ".lock").symlink_to(target)

    with pytest.raises(FileExistsError, match=r"\.lock is a symbolic link"):
        train(_config(synth_dir), folder, overwrite=True, verbose=0)
    assert not target.exists() and not target.is_symlink()
    assert os.readlink(folder / ".lock") == str(target)


@pytest.mark.parametrize("content", [b"locked by my sync tool\n", b""], ids=["text", "empty"])
def test_a_folder_holding_only_a_users_lock_file_is_not_empty_and_the_file_is_kept(synth_dir, tmp_path, content):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / ".lock").write_bytes(content)

    with pytest.raises(FileExistsError, match=r"\.lock"):
        train(_config(synth_dir), folder, verbose=0)
    with pytest.raises(FileExistsError, match=r"\.lock is an? .*file"):  # not even beside it, with overwrite
        train(_config(synth_dir), folder, overwrite=True, verbose=0)
    assert (folder / ".lock").read_bytes() == content
    assert sorted(p.name for p in folder.iterdir()) == [".lock"]


class _SwapLock(keras.callbacks.Callback):
    """Mid-training, puts a user's file where the run's `.lock` was (the run still holds the old one open)."""

    def __init__(self, lock: Path):
        super().__init__()
        self.lock = lock

    def on_train_batch_end(self, batch, logs=None):
        if batch == 0:
            self.lock.unlink()
            self.lock.write_text("a user's file")


def test_only_the_file_locked_is_removed_at_exit(synth_train_only, tmp_path):
    folder = tmp_path / "run"
    train(_config(synth_train_only), folder, callbacks=[_SwapLock(folder / ".lock")], verbose=0)
    assert (folder / ".lock").read_text() == "a user's file"


# ------------------------------------------------------------------ 4. look-alikes of our temporaries
def _export(generator, out, **kwargs):
    return export_generator(generator, out, saved_model=False, image_size=32, **kwargs)


def test_export_keeps_a_users_look_alikes_beside_out(generator, tmp_path, dead_pid):
    files = _look_alikes(tmp_path, dead_pid)

    _export(generator, tmp_path / "exp")

    assert _unchanged(files) == [] and (tmp_path / "exp" / "metadata.json").is_file()


def test_the_sweep_never_removes_a_link_even_one_named_like_ours(tmp_path, dead_pid):
    from tfgan_translate.io import remove_stale_temporaries

    target = tmp_path / "photos"
    target.mkdir()
    (target / "a.jpg").write_bytes(b"a photo")
    links = [tmp_path / f".exp.old-{dead_pid}-0badc0de", tmp_path / f".exp.tmp-{dead_pid}-0badc0de"]
    for link in links:
        link.symlink_to(target)
    remove_stale_temporaries(tmp_path)
    assert all(link.is_symlink() for link in links)

    from tfgan_translate.io import temporary_path  # names with a valid check: links all the same

    links = [temporary_path(tmp_path / "exp", kind, pid=dead_pid) for kind in ("tmp", "old")]
    for link in links:
        link.symlink_to(target)
    assert remove_stale_temporaries(tmp_path) == []
    assert all(link.is_symlink() for link in links) and (target / "a.jpg").read_bytes() == b"a photo"


def test_a_refused_export_removes_nothing_not_even_our_stale_staging(generator, tmp_path, dead_pid):
    files = _look_alikes(tmp_path, dead_pid)
    out = tmp_path / "exp"
    out.mkdir()
    (out / "thesis.tex").write_text("not an export")
    ours = _killed_writer(tmp_path)  # a genuine stale staging folder: removed only by an export that goes ahead

    with pytest.raises(ValueError, match="holds files but no metadata.json"):
        _export(generator, out)
    assert _unchanged(files) == [] and all(path.exists() for path in ours)
    assert sorted(p.name for p in out.iterdir()) == ["thesis.tex"]


def test_cli_export_refused_keeps_the_users_look_alikes(tiny_run, tmp_path, dead_pid, capsys):
    files = _look_alikes(tmp_path, dead_pid)
    out = tmp_path / "exp"
    out.mkdir()
    (out / "mine.txt").write_text("not an export")
    assert main(["-q", "export", str(tiny_run), "--out", str(out), "--tflite"]) == 2
    assert str(out) in _one_line_error(capsys)
    assert _unchanged(files) == []


KILLED_WRITER = """
import sys, time
from pathlib import Path
from tfgan_translate.io import atomic_file, staged_folder
folder = Path(sys.argv[1])
with atomic_file(folder / "model.keras", suffix=".keras") as tmp, staged_folder(folder / "exp") as staging:
    tmp.write_bytes(b"half a model")
    (staging / "generator_float32.tflite").write_bytes(b"half a model")
    print("writing", flush=True)
    time.sleep(120)
"""


def _killed_writer(folder: Path) -> list[Path]:
    """What our own writers leave in `folder` when their process is killed with SIGKILL mid-write."""
    before = set(folder.iterdir())
    child = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(folder)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "writing"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
    left = sorted(set(folder.iterdir()) - before)
    assert len(left) == 2 and all(path.name.startswith((".model.keras.tmp-", ".exp.tmp-")) for path in left), left
    return left


def test_a_genuine_stale_temporary_of_ours_is_still_removed_beside_the_users(generator, tmp_path, dead_pid):
    files = _look_alikes(tmp_path, dead_pid)
    ours = _killed_writer(tmp_path)

    _export(generator, tmp_path / "exp")

    assert [path.name for path in ours if path.exists()] == []
    assert _unchanged(files) == []


def test_train_counts_a_users_look_alikes_and_keeps_them(synth_train_only, tmp_path, dead_pid, capsys):
    folder = tmp_path / "run"
    files = _look_alikes(folder, dead_pid)
    files.update(_look_alikes(folder / "checkpoints", dead_pid))  # the sweep also looks in checkpoints/
    assert _train_cli(synth_train_only, folder) == 2
    err = _one_line_error(capsys)
    assert "is not empty and holds no run" in err and ".photos.old-2023" in err
    assert _unchanged(files) == []

    assert _train_cli(synth_train_only, folder, "--overwrite") == 0  # beside them: none deleted
    assert _unchanged(files) == [] and (folder / "checkpoints" / "latest.keras").is_file()


def test_train_removes_a_killed_runs_temporaries_of_ours(synth_train_only, tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    ours = _killed_writer(folder)  # a folder holding only those is empty: a new run goes ahead

    train(_config(synth_train_only), folder, verbose=0)

    assert [path.name for path in ours if path.exists()] == []
    assert (folder / "checkpoints" / "latest.keras").is_file()
