"""Run folders are owned (issue 16): nothing a user has is overwritten, deleted or left half-written unasked.

- `train` refuses a folder that holds a run unless `resume` or `overwrite` says what to do, refuses a
  non-empty folder holding no run unless `overwrite`, and names the argument when `--out` is a file;
- the folder is locked while a run trains: a second writer fails at once naming the holder's PID, and a
  lock left by a killed process is taken over, with a warning;
- the temporaries of a killed run are removed at the next start (those of a live process stay);
- resuming and `load_run` fall back past a damaged newest checkpoint to the newest one that loads,
  saying which and why; if none loads, one error lists each.

The exceptions are matched by their built-in bases (FileExistsError, BlockingIOError, ValueError) so that
each test also runs, and fails, on the code from before these rules.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import keras
import pytest

from tfgan_translate.app.cli import main
from tfgan_translate.config import Pix2PixConfig
from tfgan_translate.io import temporary_path
from tfgan_translate.training.run import load_run, train

TINY = dict(image_size=32, load_size=36, netG="unet_32", ngf=8, ndf=8, epochs=2, steps_per_epoch=2, batch_size=2,
            seed=0, validation_steps=1, precision="float32", strategy="none", checkpoint_every=1,
            keep_checkpoints=3)
CLI_TINY = ["--image-size", "32", "--load-size", "36", "--netG", "unet_32", "--ngf", "8", "--ndf", "8", "--epochs",
            "1", "--steps-per-epoch", "2", "--batch-size", "2", "--validation-steps", "1", "--precision", "float32",
            "--strategy", "none"]


def _config(data, **changes) -> Pix2PixConfig:
    return Pix2PixConfig(data=str(data), **{**TINY, **changes})



@pytest.fixture(scope="module")
def template_run(synth_train_only, tmp_path_factory) -> Path:
    """One tiny run (2 epochs x 2 steps, a checkpoint every step, 3 kept), copied by each test that changes it.

    Its checkpoints/: latest.keras and epoch_0002.keras (step 4), step_00000004.keras, step_00000003.keras.
    """
    run = tmp_path_factory.mktemp("template") / "run"
    train(_config(synth_train_only), run, verbose=0)
    return run


@pytest.fixture
def run(template_run, tmp_path) -> Path:
    """A private copy of the template run (modification times kept: they order the checkpoints)."""
    return Path(shutil.copytree(template_run, tmp_path / "run"))


def _snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _dead_pid() -> int:
    """The PID of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


# ------------------------------------------------------------------ 1. refusing a folder that holds a run
def test_training_into_a_run_without_resume_or_overwrite_is_refused_and_changes_nothing(run, synth_train_only):
    before = _snapshot(run)
    with pytest.raises(FileExistsError, match="already holds a run") as error:
        train(_config(synth_train_only, epochs=1), run, verbose=0)
    assert "resume=True (--resume)" in str(error.value) and "overwrite=True (--overwrite)" in str(error.value)
    assert str(run) in str(error.value)
    assert _snapshot(run) == before  # config, checkpoints (none pruned), logs, samples: all as they were


def test_cli_refuses_it_in_one_line_naming_both_flags(run, synth_train_only, capsys):
    before = _snapshot(run)
    assert main(["-q", "train", "pix2pix", "--data", str(synth_train_only), "--out", str(run), *CLI_TINY]) == 2
    err = _one_line_error(capsys)
    assert "--resume" in err and "--overwrite" in err and str(run) in err
    assert _snapshot(run) == before


def test_overwrite_replaces_the_old_run_and_keeps_files_we_did_not_write(run, synth_train_only):
    user_files = {run / "NOTES.txt": b"mine", run / "checkpoints" / "README": b"also mine",
                  run / "logs" / "my_plot.png": b"a plot", run / "samples" / "favourite.png": b"best"}
    for path, data in user_files.items():
        path.write_bytes(data)
    result = train(_config(synth_train_only, epochs=1), run, overwrite=True, verbose=0)

    assert int(result.model.steps_run) == 2  # a new run: one epoch of two steps, not 4 + 2
    assert '"epochs": 1' in (run / "config.json").read_text()
    assert sorted(p.name for p in (run / "checkpoints").glob("*.keras")) == [
        "epoch_0001.keras", "latest.keras", "step_00000001.keras", "step_00000002.keras"]  # epoch_0002: gone
    assert sorted(p.name for p in (run / "samples").glob("epoch_*.png")) == ["epoch_0001.png"]
    events = list((run / "logs").rglob("events.out.tfevents.*"))
    assert events and all(p.stat().st_mtime_ns >= (run / "config.json").stat().st_mtime_ns for p in events)
    for path, data in user_files.items():
        assert path.read_bytes() == data, path


def test_cli_overwrite_replaces_the_run(run, synth_train_only):
    (run / "NOTES.txt").write_text("mine")
    assert main(["-q", "train", "pix2pix", "--data", str(synth_train_only), "--out", str(run), *CLI_TINY,
                 "--overwrite"]) == 0
    assert not (run / "checkpoints" / "epoch_0002.keras").exists() and (run / "NOTES.txt").read_text() == "mine"


def test_resume_and_overwrite_together_are_refused(run, synth_train_only):
    with pytest.raises(ValueError, match="resume=True and overwrite=True"):
        train(_config(synth_train_only), run, resume=True, overwrite=True, verbose=0)


def test_a_folder_of_other_files_is_refused_unless_overwrite_which_deletes_nothing(synth_train_only, tmp_path):
    folder = tmp_path / "papers"
    folder.mkdir()
    (folder / "thesis.tex").write_text("precious")
    with pytest.raises(FileExistsError, match=r"is not empty and holds no run \(it holds thesis.tex\)"):
        train(_config(synth_train_only, epochs=1), folder, verbose=0)
    with pytest.raises(FileExistsError, match="holds no run to resume"):
        train(_config(synth_train_only, epochs=1), folder, resume=True, verbose=0)
    assert sorted(p.name for p in folder.iterdir()) == ["thesis.tex"]

    train(_config(synth_train_only, epochs=1, checkpoint_every=None), folder, overwrite=True, verbose=0)
    assert (folder / "thesis.tex").read_text() == "precious"
    assert (folder / "checkpoints" / "latest.keras").is_file()


def test_a_folder_with_someone_elses_checkpoints_is_not_a_run(synth_train_only, tmp_path):
    folder = tmp_path / "pytorch_repo"
    (folder / "checkpoints" / "facades_label2photo").mkdir(parents=True)
    (folder / "checkpoints" / "facades_label2photo" / "latest_net_G.pth").write_bytes(b"weights")
    with pytest.raises(FileExistsError, match="holds no run to resume"):  # not "no checkpoint: a new run"
        train(_config(synth_train_only, epochs=1), folder, resume=True, verbose=0)
    assert not (folder / "config.json").exists()


def test_out_naming_a_file_is_one_clear_error(synth_train_only, tmp_path, capsys):
    path = tmp_path / "results.csv"
    path.write_text("a,b\n")
    with pytest.raises(NotADirectoryError, match="an existing file"):
        train(_config(synth_train_only), path, verbose=0)
    assert main(["-q", "train", "pix2pix", "--data", str(synth_train_only), "--out", str(path), *CLI_TINY]) == 2
    err = _one_line_error(capsys)
    assert "--out" in err and str(path) in err and "an existing file" in err
    assert path.read_text() == "a,b\n"


# ------------------------------------------------------------------ 2. one writer at a time
class _CheckLockHeld(keras.callbacks.Callback):
    """Records, mid-training, the PID in RUN_DIR/.lock and whether another open of it can take the lock."""

    def __init__(self, run_dir: Path):
        super().__init__()
        self.lock, self.seen = run_dir / ".lock", {}

    def on_train_batch_end(self, batch, logs=None):
        import fcntl

        self.seen["pid"] = self.lock.read_text().strip()
        with open(self.lock) as other:
            try:
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self.seen["free"] = True
            except BlockingIOError:
                self.seen["free"] = False


def test_an_empty_folder_trains_holding_the_lock_for_the_run(synth_train_only, tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / ".DS_Store").write_bytes(b"\0")  # what a file browser leaves: still an empty folder
    check = _CheckLockHeld(folder)
    train(_config(synth_train_only, epochs=1, checkpoint_every=None), folder, callbacks=[check], verbose=0)
    assert check.seen == {"pid": str(os.getpid()), "free": False}
    assert not (folder / ".lock").exists()  # released and removed at the end


HOLDER = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
os.write(fd, f"{os.getpid()}\\n".encode())
print("locked", flush=True)
time.sleep(120)
"""


def test_a_second_writer_fails_at_once_naming_the_holder_and_a_dead_holders_lock_is_taken_over(
        synth_train_only, tmp_path, caplog):
    folder = tmp_path / "busy"
    folder.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(folder / ".lock")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        start = time.monotonic()
        with pytest.raises(BlockingIOError, match=f"in use by process {holder.pid}"):
            train(_config(synth_train_only, epochs=1), folder, verbose=0)
        assert time.monotonic() - start < 5, "refused only after loading the data or building the model"
        assert sorted(p.name for p in folder.iterdir()) == [".lock"]  # nothing else written
    finally:
        holder.kill()
        holder.wait()

    with caplog.at_level(logging.WARNING, logger="tfgan_translate"):  # its .lock (and PID) stay: a killed holder
        train(_config(synth_train_only, epochs=1, checkpoint_every=None), folder, verbose=0)
    assert f"took over the lock left by process {holder.pid} (which is gone)" in caplog.text
    assert (folder / "checkpoints" / "latest.keras").is_file() and not (folder / ".lock").exists()


# ------------------------------------------------------------------ 3. a killed run's temporaries
def test_stale_temporaries_of_a_killed_run_are_removed_at_the_next_start_and_user_files_stay(run, synth_train_only,
                                                                                             caplog):
    dead, live = _dead_pid(), os.getpid()
    stale = [temporary_path(run / "checkpoints" / "step_00000005.keras", suffix=".keras", pid=dead),
             temporary_path(run / "checkpoints" / "latest.keras", suffix=".keras", pid=dead),
             run / "checkpoints" / ".epoch_0003.tmp.keras",  # the fixed name of tfgan_translate 0.1
             temporary_path(run / "config.json", pid=dead),
             temporary_path(run / "samples" / "epoch_0003.png", pid=dead)]
    kept = [temporary_path(run / "checkpoints" / "step_00000009.keras", suffix=".keras", pid=live),  # a live one's
            run / "checkpoints" / f".step_00000007.keras.tmp-{dead}-4badf00d.keras",  # a look-alike: no check
            run / "checkpoints" / ".my_backup.tmp.keras",  # not a name we make
            run / "checkpoints" / "my_best.keras"]  # a user's checkpoint: never pruned, however old
    for path in stale + kept:
        path.write_bytes(b"x" * 1000)
    os.utime(kept[-1], ns=(0, 0))
    with caplog.at_level(logging.INFO, logger="tfgan_translate"):
        result = train(_config(synth_train_only, epochs=3), run, resume=True, verbose=0)
    assert int(result.model.steps_run) == 6
    assert [p.name for p in stale if p.exists()] == []
    assert [p.name for p in kept if not p.exists()] == []
    assert sorted(p.name for p in (run / "checkpoints").glob("[els]*.keras")) == [
        "epoch_0003.keras", "latest.keras", "step_00000005.keras", "step_00000006.keras"]  # 3 kept, as asked
    assert "Removed 5 temporary file(s) that a killed run left" in caplog.text


# ------------------------------------------------------------------ 4. a damaged newest checkpoint
def _truncate(path: Path) -> None:
    """Cuts the file in half, keeping its modification time (damage in place)."""
    stat = path.stat()
    path.write_bytes(path.read_bytes()[: stat.st_size // 2])
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def _truncate_weights(path: Path) -> None:
    """A valid zip whose model.weights.h5 is cut in half, keeping the file's modification time."""
    stat = path.stat()
    with zipfile.ZipFile(path) as archive:
        members = [(info, archive.read(info.filename)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w") as archive:
        for info, data in members:
            archive.writestr(info, data[: len(data) // 2] if info.filename.endswith(".h5") else data)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_resume_falls_back_past_a_truncated_latest_and_says_why(run, synth_train_only, caplog):
    _truncate(run / "checkpoints" / "latest.keras")
    with caplog.at_level(logging.INFO, logger="tfgan_translate"):
        result = train(_config(synth_train_only, epochs=3), run, resume=True, verbose=0)
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert refused == [f"Checkpoint {run / 'checkpoints' / 'latest.keras'} refused: not a complete .keras (zip) "
                       "file: truncated or damaged."]
    assert f"Using {run / 'checkpoints' / 'epoch_0002.keras'} (step 4)" in caplog.text
    assert int(result.model.steps_run) == 6 and len(result.history["g_loss"]) == 1  # epoch 3 only: from step 4


def test_load_run_falls_back_past_truncated_weights_to_the_newest_intact_checkpoint(run, caplog):
    for name in ("latest.keras", "epoch_0002.keras", "step_00000004.keras"):
        _truncate_weights(run / "checkpoints" / name)
    with caplog.at_level(logging.INFO, logger="tfgan_translate"):
        config, model = load_run(run)
    assert config.epochs == 2 and int(model.steps_run) == 3  # step_00000003.keras, the newest that loads
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) == 3 and all("truncated file" in line for line in refused), refused
    assert f"Using {run / 'checkpoints' / 'step_00000003.keras'} (step 3)" in caplog.text


def test_no_checkpoint_loading_is_one_error_listing_each(run, synth_train_only, capsys):
    for path in (run / "checkpoints").glob("*.keras"):
        _truncate(path) if path.name.startswith("step") else _truncate_weights(path)
    with pytest.raises(ValueError, match="No checkpoint of run .* loads; tried: latest.keras") as error:
        load_run(run)
    for name in ("latest.keras", "epoch_0002.keras", "step_00000004.keras", "step_00000003.keras"):
        assert name in str(error.value)
    assert main(["-q", "train", "pix2pix", "--data", str(synth_train_only), "--out", str(run), "--resume"]) == 2
    assert "No checkpoint of run" in _one_line_error(capsys)


def test_a_damaged_lone_checkpoint_file_is_named(run):
    path = run / "checkpoints" / "epoch_0002.keras"
    _truncate_weights(path)
    with pytest.raises(ValueError, match=f"Invalid checkpoint {path}: it does not load .*truncated file"):
        load_run(path)
