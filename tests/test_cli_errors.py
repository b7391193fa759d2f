"""The command line's error boundary (issue 16 item 8): each expected failure is one line and an exit code.

Each case checks: the exit code of its class (`errors.EXIT_CODES`), exactly one "tfgan-translate:" line on
stderr naming the file or argument, and no traceback. The classes: 2 bad input, 3 training diverged, 4 the
system refused (permission, read-only, disk full), 130 Ctrl-C, 1 an internal error (a bug).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY_RUN_FLAGS
from PIL import Image

from tfgan_translate.app.cli import main

# The documented exit codes (README "Command line", `tfgan-translate --help`): a contract, spelled out here.
BAD_INPUT, DIVERGED, SYSTEM, INTERRUPTED, INTERNAL = 2, 3, 4, 130, 1

TINY = ["--image-size", "32", "--load-size", "36", "--netG", "unet_32", "--ngf", "4", "--ndf", "4",
        "--epochs", "1", "--steps-per-epoch", "2", "--batch-size", "1", "--validation-steps", "1",
        "--precision", "float32", "--strategy", "none"]


def one_error_line(text: str, *names) -> str:
    """The one "tfgan-translate:" line of `text` (stderr); fails on a traceback, several lines, or a name missing."""
    assert "Traceback" not in text, text
    lines = [line for line in text.splitlines() if line.startswith("tfgan-translate:")]
    assert len(lines) == 1, text
    for name in names:
        assert str(name) in lines[0], (name, lines[0])
    return lines[0]


@pytest.fixture
def run_copy(tiny_run, tmp_path) -> Path:
    """A writable copy of the session's tiny run (conftest.tiny_run), for the tests that damage it."""
    copy = tmp_path / "run"
    shutil.copytree(tiny_run, copy, ignore=shutil.ignore_patterns(".lock"))
    return copy


@pytest.fixture
def inputs(tmp_path) -> Path:
    folder = tmp_path / "inputs"
    folder.mkdir()
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(folder / "a.png")
    return folder


# ------------------------------------------------------------------ 2: bad input
@pytest.mark.parametrize("text, expected", [
    ("{", "not valid JSON"),
    ("[1, 2]", "Expected a JSON object"),
    ({"epochs": "ten"}, "epochs='ten'"),
    ({"flip": "yes"}, "flip='yes'"),
    ({"model": "gan"}, "model='gan'"),
])
def test_a_malformed_or_wrong_typed_config_json_is_one_line_naming_it(run_copy, capsys, text, expected):
    config = run_copy / "config.json"
    if isinstance(text, dict):
        text = json.dumps({**json.loads(config.read_text()), **text})
    config.write_text(text)
    assert main(["train", "pix2pix", "--resume", "--out", str(run_copy), "--epochs", "3"]) == BAD_INPUT
    one_error_line(capsys.readouterr().err, config, expected)


def test_translate_names_a_malformed_config_json(run_copy, inputs, tmp_path, capsys):
    (run_copy / "config.json").write_text('{"model": "pix2pix", "epochs": ')
    assert main(["translate", "--checkpoint", str(run_copy), "--input", str(inputs), "--output",
                 str(tmp_path / "out")]) == BAD_INPUT
    one_error_line(capsys.readouterr().err, run_copy / "config.json", "not valid JSON")


def _unknown_class(checkpoint: Path) -> None:
    """Rewrites `checkpoint` so that its model's class is one no code registers (a crafted or foreign file)."""
    with zipfile.ZipFile(checkpoint) as archive:
        members = {info.filename: archive.read(info.filename) for info in archive.infolist()}
    saved = json.loads(members["config.json"])
    saved["registered_name"] = "evil>Pix2Pix"
    members["config.json"] = json.dumps(saved).encode()
    with zipfile.ZipFile(checkpoint, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def test_an_unknown_class_in_a_keras_file_is_one_line_naming_it(run_copy, inputs, tmp_path, capsys):
    checkpoints = sorted((run_copy / "checkpoints").glob("*.keras"))
    for checkpoint in checkpoints:
        _unknown_class(checkpoint)
    latest = run_copy / "checkpoints" / "latest.keras"
    for source in (run_copy, latest):  # a run folder (every checkpoint refused) and a lone file
        assert main(["translate", "--checkpoint", str(source), "--input", str(inputs), "--output",
                     str(tmp_path / "out")]) == BAD_INPUT
        one_error_line(capsys.readouterr().err, "latest.keras")
    assert not (tmp_path / "out").exists()


def test_keras_deserialization_errors_are_mapped_to_the_file(run_copy):
    """The boundary's own fallback: a raw TypeError from inside `keras.saving.load_model` names the file."""
    import keras

    from tfgan_translate.app import errors

    checkpoint = run_copy / "checkpoints" / "latest.keras"
    _unknown_class(checkpoint)
    with pytest.raises((TypeError, ValueError)) as raised:
        keras.saving.load_model(checkpoint)
    code, message = errors.classify(raised.value, {"--checkpoint": str(run_copy)})
    assert code == BAD_INPUT
    assert str(checkpoint) in message and "'Pix2Pix'" in message and "--checkpoint" in message, message


def test_out_naming_an_existing_file_is_one_line_naming_it(synth_dir, tmp_path, capsys):
    out = tmp_path / "notes.txt"
    out.write_text("mine")
    assert main(["train", "pix2pix", "--data", str(synth_dir), "--out", str(out), *TINY]) == BAD_INPUT
    one_error_line(capsys.readouterr().err, out)
    assert out.read_text() == "mine"


# ------------------------------------------------------------------ OS errors: a wrong path (2), refused (4)
@pytest.mark.parametrize("make_error, code, expected", [
    (lambda out: PermissionError(errno.EACCES, "Permission denied", str(out / "train" / "0.jpg")), 4,
     "check its permissions"),
    (lambda out: OSError(errno.EROFS, "Read-only file system", str(out / "train")), 4, "read-only"),
    (lambda out: OSError(errno.ENOSPC, "No space left on device"), 4, "No space left on device (ENOSPC)"),
    (lambda out: OSError(errno.ENOSPC, "No space left on device", str(out / "x.png")), 4, "free space"),
    (lambda out: IsADirectoryError(errno.EISDIR, "Is a directory", str(out)), 2, "Expected a file path"),
    (lambda out: FileNotFoundError(errno.ENOENT, "No such file or directory", str(out / "a")), 2, "Expected an"),
])
def test_os_errors_are_one_line_with_their_class(monkeypatch, tmp_path, capsys, make_error, code, expected):
    out = tmp_path / "data"

    def fail(*args, **kwargs):
        raise make_error(out)

    monkeypatch.setattr("tfgan_translate.data.write_synthetic_dataset", fail)
    assert main(["datasets", "synth", "--out", str(out)]) == code
    line = one_error_line(capsys.readouterr().err, expected, "--out")  # the argument the path came from
    assert line.startswith("tfgan-translate: error:")


def _without_write_permission() -> list[str] | None:
    """A command prefix under which file modes bind (root drops CAP_DAC_OVERRIDE with setpriv), or None."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    probe = subprocess.run([setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner", "true"],
                           capture_output=True)
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner"] if probe.returncode == 0 else None


def _cli_env() -> dict:
    """The environment of a user's shell: TensorFlow's log level and the debug switch unset."""
    return {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "TFGAN_TRANSLATE_DEBUG")}


def test_a_read_only_run_folder_is_one_line_exit_4(run_copy):
    prefix = _without_write_permission()
    if prefix is None:
        pytest.skip("running as root without setpriv: a read-only folder cannot be made to refuse root")
    for path in [run_copy, *run_copy.rglob("*")]:
        path.chmod(path.stat().st_mode & ~0o222)
    try:
        done = subprocess.run([*prefix, sys.executable, "-m", "tfgan_translate", "train", "pix2pix", "--resume",
                               "--out", str(run_copy), "--epochs", "3"], capture_output=True, text=True, env=_cli_env(),
                              timeout=300)
    finally:
        for path in [run_copy, *run_copy.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)
    assert done.returncode == SYSTEM, done.stderr
    one_error_line(done.stderr, run_copy, "Permission denied")


# ------------------------------------------------------------------ 3, 1 and --debug
def test_training_diverged_exits_3(monkeypatch, synth_dir, tmp_path, capsys):
    from tfgan_translate.training.monitoring import TrainingDiverged

    def diverge(*args, **kwargs):
        raise TrainingDiverged("Training diverged: g_loss = nan at epoch 1, step 3. Stopped; ...")

    monkeypatch.setattr("tfgan_translate.training.run.train", diverge)
    assert main(["train", "pix2pix", "--data", str(synth_dir), "--out", str(tmp_path / "r"), *TINY]) == DIVERGED
    one_error_line(capsys.readouterr().err, "g_loss = nan")


def test_an_unexpected_error_is_one_line_exit_1_and_debug_shows_the_traceback(monkeypatch, tmp_path, capsys):
    def bug(*args, **kwargs):
        raise AttributeError("'NoneType' object has no attribute 'shape'")

    monkeypatch.setattr("tfgan_translate.data.write_synthetic_dataset", bug)
    assert main(["datasets", "synth", "--out", str(tmp_path / "d")]) == INTERNAL
    one_error_line(capsys.readouterr().err, "internal error", "AttributeError", "--debug")
    assert main(["--debug", "datasets", "synth", "--out", str(tmp_path / "d")]) == INTERNAL
    err = capsys.readouterr().err
    assert "Traceback" in err and "AttributeError" in err


def test_debug_shows_the_traceback_of_an_expected_failure(run_copy, capsys):
    (run_copy / "config.json").write_text("{")
    assert main(["--debug", "train", "pix2pix", "--resume", "--out", str(run_copy)]) == BAD_INPUT
    err = capsys.readouterr().err
    assert "Traceback" in err and "not valid JSON" in err


def test_help_lists_the_exit_codes(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "--debug" in out and "exit codes" in out
    for code in (0, INTERNAL, BAD_INPUT, DIVERGED, SYSTEM, INTERRUPTED):
        assert f"  {code} " in out, out


# ------------------------------------------------------------------ 130: Ctrl-C
def test_ctrl_c_during_training_is_one_line_exit_130(synth_dir, tmp_path):
    run, log = tmp_path / "run", tmp_path / "stderr.txt"
    flags = [*TINY_RUN_FLAGS[:TINY_RUN_FLAGS.index("--epochs")], "--epochs", "2000", "--steps-per-epoch", "5",
             "--batch-size", "1", "--log-every", "1", "--precision", "float32", "--strategy", "none"]
    with log.open("w") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "tfgan_translate", "train", "pix2pix", "--data",
                                    str(synth_dir), "--out", str(run), *flags], stdout=subprocess.DEVNULL,
                                   stderr=stderr, env={**_cli_env(), "PYTHONFAULTHANDLER": "1"})
        try:
            deadline = time.monotonic() + 240
            while "Training pix2pix" not in log.read_text() and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(3)  # into fit: tracing and the first steps
            assert process.poll() is None, log.read_text()
            process.send_signal(signal.SIGINT)
            try:
                code = process.wait(timeout=120)
            except subprocess.TimeoutExpired:  # SIGABRT: the fault handler writes every thread's stack to the log
                process.send_signal(signal.SIGABRT)
                process.wait(timeout=30)
                pytest.fail(f"train ignored Ctrl-C for 120 s; its stderr:\n{log.read_text()[-6000:]}")
        finally:
            if process.poll() is None:
                process.kill()
    assert code == INTERRUPTED, log.read_text()
    one_error_line(log.read_text(), "Ctrl-C", "--resume", run)


def _ctrl_c_now():
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(1)  # the handler runs here, in the main thread
    raise AssertionError("SIGINT did not arrive")


def _ctrl_c_inside_c_code():
    """As CPython reports an interrupt that lands inside a C function which then returns a result."""
    try:
        _ctrl_c_now()
    except KeyboardInterrupt as interrupt:
        raise SystemError("<built-in function len> returned a result with an exception set") from interrupt


def _ctrl_c_swallowed():
    """A Ctrl-C lost on its way (a finaliser drops it); the train callback's check comes at the next step."""
    from tfgan_translate.app import errors

    with contextlib.suppress(KeyboardInterrupt):
        _ctrl_c_now()
    errors.raise_if_interrupted()
    return 0


@pytest.mark.parametrize("command", [_ctrl_c_now, _ctrl_c_inside_c_code, _ctrl_c_swallowed])
def test_a_ctrl_c_however_it_surfaces_is_the_interrupt_line(command, capsys):
    """Seen on a loaded machine: a SIGINT inside TensorFlow's C code came out as a SystemError (exit 1)."""
    from tfgan_translate.app import errors

    handler = signal.getsignal(signal.SIGINT)
    assert errors.guarded(command, command="train", paths={"--out": "runs/x"}) == INTERRUPTED
    one_error_line(capsys.readouterr().err, "Ctrl-C", "--resume", "runs/x")
    assert signal.getsignal(signal.SIGINT) is handler  # the boundary puts the previous handler back
    assert errors.guarded(lambda: 0) == 0  # and forgets the interrupt for the next command
