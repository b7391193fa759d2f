"""`evaluate` with unreadable images (--skip-bad-files) and bad output paths (issue 16 items 6 and 8).

The tests go through `tfgan-translate evaluate` (`cli.main`) and `evaluate_folders`, so they run (and fail) on
the code before the fix too.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from tfgan_translate.app import cli
from tfgan_translate.data import save_image
from tfgan_translate.evaluation import evaluate as evaluate_module
from tfgan_translate.evaluation import evaluate_folders


def _image(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-0.8, 0.8, (32, 32, 3)).astype(np.float32)


@pytest.fixture
def folders(tmp_path):
    """pred/ and truth/ with 3 pairs; pred/img1.png is not an image."""
    pred, truth = tmp_path / "pred", tmp_path / "truth"
    for i in range(3):
        save_image(_image(i), truth / f"img{i}.png")
        save_image(_image(i) * 0.9, pred / f"img{i}.png")
    (pred / "img1.png").write_bytes(b"half a PNG, the rest lost in a crash")
    return pred, truth


def _no_scoring(monkeypatch):
    """Makes scoring an image fail the test: what must be refused is refused before any work."""
    def scored(*args, **kwargs):
        raise AssertionError("an image was scored before the bad argument was refused")

    monkeypatch.setattr(evaluate_module, "paired_metrics", scored)


# ------------------------------------------------------------------ unreadable images (item 6)
def test_a_bad_image_names_the_file_and_the_flag_and_writes_nothing(folders, tmp_path, capsys, monkeypatch):
    pred, truth = folders
    _no_scoring(monkeypatch)  # every file is checked before the first is scored
    out = tmp_path / "eval.json"
    assert cli.main(["evaluate", "--pred", str(pred), "--truth", str(truth), "--json", str(out),
                     "--report", str(tmp_path / "report")]) == 2
    err = capsys.readouterr().err
    assert str(pred / "img1.png") in err and "--skip-bad-files" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists() and not (tmp_path / "report").exists()


def test_skip_bad_files_skips_and_counts_unreadable_images(folders, tmp_path, capsys):
    pred, truth = folders
    (truth / "img2.png").write_bytes(b"GIF89a broken")  # a bad truth image: its pair is left out too
    out = tmp_path / "eval.json"
    assert cli.main(["evaluate", "--pred", str(pred), "--truth", str(truth), "--skip-bad-files", "--json", str(out),
                     "--report", str(tmp_path / "report")]) == 0
    data = json.loads(out.read_text())
    assert data["count"] == 1 and [row["name"] for row in data["per_image"]] == ["img0"]
    assert data["skipped_count"] == 2
    assert [(row["name"], row["file"]) for row in data["skipped"]] == [("img1", str(pred / "img1.png")),
                                                                       ("img2", str(truth / "img2.png"))]
    assert all(row["reason"] for row in data["skipped"])
    printed = capsys.readouterr().out
    assert "Evaluated 1 image pair(s)" in printed
    assert "Skipped 2 unreadable image(s)" in printed and str(pred / "img1.png") in printed
    assert "- skipped: 2 unreadable image(s)" in (tmp_path / "report" / "report.md").read_text()

    result = evaluate_folders(pred, truth, skip_bad_files=True)  # the same from Python
    assert [row["name"] for row in result.info["skipped"]] == ["img1", "img2"] and len(result.per_image) == 1


@pytest.fixture
def damaged_data(synth_dir, tmp_path):
    """A copy of the session's synthetic set with one aligned test file truncated."""
    from tfgan_translate.data import list_images

    data = tmp_path / "data"
    shutil.copytree(synth_dir, data)
    bad = list_images(data / "test")[1]
    bad.write_bytes(bad.read_bytes()[:40])
    return data, bad


def test_skip_bad_files_with_a_run_or_an_export_and_data(tiny_run, damaged_data, tmp_path, capsys):
    from tfgan_translate.export import export_generator

    data, bad = damaged_data
    report = tmp_path / "report"
    args = ["evaluate", "--checkpoint", str(tiny_run), "--data", str(data), "--report", str(report)]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "--skip-bad-files" in err and "Traceback" not in err
    assert not report.exists()  # nothing translated before the bad file was found

    assert cli.main([*args, "--skip-bad-files", "--json", str(tmp_path / "run.json")]) == 0
    data_json = json.loads((tmp_path / "run.json").read_text())
    assert data_json["count"] == 3 and data_json["skipped_count"] == 1
    assert data_json["skipped"][0]["file"] == str(bad) and data_json["skipped"][0]["name"] == bad.stem
    assert len(list((report / "pred").glob("*.png"))) == 3
    assert f"Skipped 1 unreadable image(s) (--skip-bad-files): {bad}" in capsys.readouterr().out

    tflite = next(iter(export_generator(tiny_run, tmp_path / "export", saved_model=False).tflite.values()))
    out = tmp_path / "model.json"
    assert cli.main(["evaluate", "--model", str(tflite), "--data", str(data), "--json", str(out)]) == 2
    assert str(bad) in capsys.readouterr().err
    assert cli.main(["evaluate", "--model", str(tflite), "--data", str(data), "--json", str(out),
                     "--skip-bad-files"]) == 0
    assert json.loads(out.read_text())["skipped_count"] == 1


# ------------------------------------------------------------------ output paths (item 8)
def test_json_naming_a_folder_is_refused_before_any_work(folders, tmp_path, capsys, monkeypatch):
    pred, truth = folders
    (pred / "img1.png").unlink()
    save_image(_image(1), pred / "img1.png")
    _no_scoring(monkeypatch)
    folder = tmp_path / "results"
    folder.mkdir()
    assert cli.main(["evaluate", "--pred", str(pred), "--truth", str(truth), "--json", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "--json" in err and str(folder) in err and "is a folder" in err and "Traceback" not in err
    assert list(folder.iterdir()) == []

    photo = tmp_path / "holiday.png"  # an existing file that is not an evaluation's JSON: not overwritten
    save_image(_image(5), photo)
    before = photo.read_bytes()
    assert cli.main(["evaluate", "--pred", str(pred), "--truth", str(truth), "--json", str(photo)]) == 2
    err = capsys.readouterr().err
    assert "--json" in err and str(photo) in err and "not an evaluation's JSON" in err
    assert photo.read_bytes() == before

    assert cli.main(["evaluate", "--pred", str(pred), "--truth", str(truth), "--json", str(photo / "e.json")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_report_naming_a_file_is_refused_before_any_work(folders, tiny_run, synth_dir, tmp_path, capsys,
                                                         monkeypatch):
    pred, truth = folders
    _no_scoring(monkeypatch)
    target = tmp_path / "report.txt"
    target.write_text("my notes")
    assert cli.main(["evaluate", "--pred", str(pred), "--truth", str(truth), "--report", str(target)]) == 2
    err = capsys.readouterr().err
    assert "--report" in err and str(target) in err and "is a file" in err and "Traceback" not in err
    assert cli.main(["evaluate", "--checkpoint", str(tiny_run), "--data", str(synth_dir), "--report",
                     str(target)]) == 2
    assert "--report" in capsys.readouterr().err
    assert target.read_text() == "my notes"

    mine = tmp_path / "mine"  # a folder of the user's holding a report.md: not overwritten
    mine.mkdir()
    (mine / "report.md").write_text("# my own report")
    assert cli.main(["evaluate", "--pred", str(pred), "--truth", str(truth), "--report", str(mine)]) == 2
    assert "not an earlier report" in capsys.readouterr().err
    assert (mine / "report.md").read_text() == "# my own report"


def test_an_earlier_report_is_replaced_and_only_this_evaluation_is_scored(tiny_run, synth_dir, tmp_path):
    from tfgan_translate.evaluation import evaluate_run

    report = tmp_path / "report"
    first = evaluate_run(tiny_run, synth_dir, report_dir=report, json_path=tmp_path / "e.json")
    assert len(first.per_image) == 4
    stale = report / "pred" / "from_another_split.png"  # an earlier evaluation's translation of another name
    shutil.copy(report / "pred" / f"{first.per_image[0]['name']}.png", stale)
    shutil.copy(report / "truth" / f"{first.per_image[0]['name']}.png", report / "truth" / stale.name)
    again = evaluate_run(tiny_run, synth_dir, report_dir=report, json_path=tmp_path / "e.json")
    assert [row["name"] for row in again.per_image] == [row["name"] for row in first.per_image]
