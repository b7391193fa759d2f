"""Readable logs (issue 16 item 11): plain lines when stdout is not a terminal, no TensorFlow noise, no repeats."""

from __future__ import annotations

import io
import logging
import os
import shutil
import subprocess
import sys

from tfgan_translate.app.cli import main

TINY = ["--image-size", "32", "--load-size", "36", "--netG", "unet_32", "--ngf", "4", "--ndf", "4",
        "--batch-size", "1", "--validation-steps", "1", "--precision", "float32", "--strategy", "none"]


def test_a_20_step_run_piped_to_files_writes_under_2_kb_of_plain_lines(synth_dir, tmp_path):
    """Before: Keras' progress bar with carriage returns and colour codes, TF's banners and remapper line."""
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "TFGAN_TRANSLATE_DEBUG")}
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        done = subprocess.run([sys.executable, "-m", "tfgan_translate", "train", "pix2pix", "--data",
                               str(synth_dir), "--out", str(tmp_path / "run"), *TINY, "--epochs", "2",
                               "--steps-per-epoch", "10", "--log-every", "10"], stdout=stdout, stderr=stderr,
                              env=env, timeout=600)
    text = out.read_bytes() + err.read_bytes()
    print(f"20-step run piped to files: {len(text)} bytes (stdout {out.stat().st_size}, stderr {err.stat().st_size})")
    assert done.returncode == 0, text.decode(errors="replace")
    assert len(text) < 2048, text.decode(errors="replace")
    assert b"\r" not in text and b"\x1b" not in text
    for noise in (b"remapper", b"oneDNN", b"absl", b"cpu_feature_guard", b"E0000", b"I0000"):
        assert noise not in text, (noise, text.decode(errors="replace"))
    lines = err.read_text().splitlines()
    epoch_lines = [line for line in lines if line.startswith("INFO epoch ")]
    step_lines = [line for line in lines if line.startswith("INFO step ")]
    assert [line.split(":")[0] for line in epoch_lines] == ["INFO epoch 1/2", "INFO epoch 2/2"], lines
    assert [line.split(" (")[0] for line in step_lines] == ["INFO step 10/20", "INFO step 20/20"], lines
    assert all("steps/s, ETA " in line for line in epoch_lines + step_lines)


def test_step_lines_only_off_a_terminal_and_for_an_explicit_log_every(monkeypatch):
    from tfgan_translate.app import logs
    from tfgan_translate.training.monitoring import ProgressLog

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stdout", Terminal())
    assert logs.fit_verbosity() == 1 and logs.step_progress(5, 10) == []  # the progress bar, as before
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert logs.fit_verbosity() == 0 and logs.step_progress(5, None) == []  # config's log_every: TensorBoard only
    [callback] = logs.step_progress(5, 10)
    assert isinstance(callback, ProgressLog) and callback.every_steps == 10 and not callback.epoch_lines


def test_a_repeated_skip_warning_appears_once(synth_dir, tmp_path, caplog):
    """Before: each pass over the files (count, dataset, validation, samples) logged its skip count again."""
    data = tmp_path / "data"
    shutil.copytree(synth_dir, data)
    for split in ("train", "test"):
        (data / split / "zz_broken.jpg").write_bytes(b"not an image")
    caplog.set_level(logging.INFO)
    assert main(["train", "pix2pix", "--data", str(data), "--out", str(tmp_path / "run"), *TINY, "--epochs", "1",
                 "--steps-per-epoch", "2", "--skip-bad-files"]) == 0
    skipped = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Skipped ")]
    assert len(skipped) == len(set(skipped)) >= 1, skipped
    assert any("train" in message and "zz_broken.jpg" in message for message in skipped), skipped


def test_once_filter_drops_repeated_warnings_only():
    from tfgan_translate.app.logs import OnceFilter

    logger, stream = logging.getLogger("tfgan_translate.test_once"), io.StringIO()
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    logger.addFilter(OnceFilter())
    logger.propagate = False
    try:
        for _ in range(4):
            logger.warning("Skipped 1 of 13 image files")
            logger.error("Training diverged")
        logger.warning("Skipped 2 of 13 image files")
    finally:
        logger.removeHandler(handler)
    assert stream.getvalue().splitlines() == ["Skipped 1 of 13 image files", "Training diverged",
                                              "Skipped 2 of 13 image files"]
