"""translate never loses the user's files: inputs, files it did not write, outputs of inputs sharing a stem.

Issue 16, items 2 and 6: `--output` the input folder translated the inputs over themselves, `1.jpg` and
`1.png` wrote one file while reporting "Wrote 2", and a bad image stopped the run half-way with advice
naming a `skip_bad_files` option the command line did not have.
"""

import numpy as np
import pytest
from PIL import Image

from tfgan_translate.app.cli import main
from tfgan_translate.data import DataError


def _images(folder, names, size=(40, 24), seed=0):
    """Random RGB files (width x height `size`) named `names` in `folder`; returns {name: bytes}."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for name in names:
        Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(folder / name)
    return {name: (folder / name).read_bytes() for name in names}


def _negate(image):
    return -image


@pytest.fixture(scope="module")
def saved_export(tmp_path_factory):
    """A SavedModel export of a small random U-Net (depth 5: the size rule is 32)."""
    from tfgan_translate.export import export_generator
    from tfgan_translate.networks import UNetGenerator

    out = tmp_path_factory.mktemp("export") / "tiny"
    export_generator(UNetGenerator(depth=5, ngf=4, dropout=0.0), out, saved_model=True, tflite=False,
                     image_size=32)
    return out


# ------------------------------------------------------------------ outputs never clobber inputs (item 2)
@pytest.mark.parametrize("source", ["checkpoint", "model"])
def test_output_folder_that_is_the_input_folder_is_refused(tiny_run, saved_export, tmp_path, capsys, source):
    inputs = tmp_path / "photos"
    before = _images(inputs, ["a.png", "b.jpg"])
    flag = ["--checkpoint", str(tiny_run)] if source == "checkpoint" else ["--model", str(saved_export)]
    assert main(["-q", "translate", *flag, "--input", str(inputs), "--output", str(inputs)]) == 2
    err = capsys.readouterr().err
    assert "is the input folder" in err and str(inputs) in err and "Traceback" not in err
    assert {p.name: p.read_bytes() for p in inputs.iterdir()} == before  # nothing replaced, nothing added


def test_output_inside_or_linked_to_the_input_folder_is_refused(tiny_run, tmp_path, capsys):
    inputs = tmp_path / "photos"
    before = _images(inputs, ["a.png"])
    link = tmp_path / "link"
    link.symlink_to(inputs, target_is_directory=True)
    for output in (inputs / "translated", link, link / "deeper"):
        assert main(["-q", "translate", "--checkpoint", str(tiny_run), "--input", str(inputs),
                     "--output", str(output)]) == 2
        assert "input folder" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in inputs.iterdir()} == before


def test_one_input_file_is_never_its_own_output(tiny_run, tmp_path, capsys):
    inputs = tmp_path / "photos"
    before = _images(inputs, ["a.png"])
    assert main(["-q", "translate", "--checkpoint", str(tiny_run), "--input", str(inputs / "a.png"),
                 "--output", str(inputs)]) == 2
    assert "would replace the input" in capsys.readouterr().err
    assert (inputs / "a.png").read_bytes() == before["a.png"]


def test_inputs_sharing_a_stem_get_distinct_outputs(tiny_run, saved_export, tmp_path, capsys):
    inputs = tmp_path / "photos"
    _images(inputs, ["1.jpg", "1.png", "1_png.gif", "2.png"], seed=1)
    for source, flag in (("checkpoint", ["--checkpoint", str(tiny_run)]), ("model", ["--model", str(saved_export)])):
        out = tmp_path / f"out-{source}"
        assert main(["translate", *flag, "--input", str(inputs), "--output", str(out)]) == 0
        names = sorted(p.name for p in out.iterdir())
        assert names == ["1.png", "1_png.png", "1_png_gif.png", "2.png"], names  # natural order: 1.jpg first
        assert len({(out / n).read_bytes() for n in names}) == 4  # four different images, none overwritten
        printed = capsys.readouterr().out
        assert "Wrote 4 image(s)" in printed and "1.png -> 1_png.png" in printed


def test_files_translate_did_not_write_are_kept_unless_overwrite(tiny_run, tmp_path, capsys):
    inputs, out = tmp_path / "photos", tmp_path / "out"
    _images(inputs, ["a.png", "b.png"])
    mine = _images(out, ["a.png"], seed=7)  # the user's own file, where translate would write a.png
    run = ["-q", "translate", "--checkpoint", str(tiny_run), "--input", str(inputs), "--output", str(out)]
    assert main(run) == 2
    err = capsys.readouterr().err
    assert str(out / "a.png") in err and "--overwrite" in err
    assert (out / "a.png").read_bytes() == mine["a.png"] and not (out / "b.png").exists()  # nothing written
    assert main([*run, "--overwrite"]) == 0
    assert (out / "a.png").read_bytes() != mine["a.png"] and (out / "b.png").is_file()


def test_rerunning_into_the_same_folder_replaces_its_own_outputs(tmp_path):
    from tfgan_translate.output_plan import is_translate_output, translate_paths

    inputs, out = tmp_path / "photos", tmp_path / "out"
    _images(inputs, ["a.png"])
    first = translate_paths(_negate, inputs, out, input_channels=3)
    assert is_translate_output(first[0])
    _images(inputs, ["a.png"], seed=3)  # the input changed: the second run replaces the first run's output
    second = translate_paths(_negate, inputs, out, input_channels=3)
    assert second == first
    assert np.array_equal(np.asarray(Image.open(out / "a.png")), 255 - np.asarray(Image.open(inputs / "a.png")))


def test_output_that_is_a_file_is_refused(tmp_path):
    from tfgan_translate.inference import translate_paths

    inputs = tmp_path / "photos"
    _images(inputs, ["a.png"])
    (tmp_path / "out").write_text("mine")
    with pytest.raises(ValueError, match=r"out is a file\. Expected a folder"):
        translate_paths(_negate, inputs, tmp_path / "out", input_channels=3)
    assert (tmp_path / "out").read_text() == "mine"


# ------------------------------------------------------------------ bad images (item 6)
def test_a_bad_image_stops_before_anything_is_written_and_names_the_flag(tiny_run, tmp_path, capsys):
    inputs, out = tmp_path / "photos", tmp_path / "out"
    _images(inputs, ["a.png", "z.png"])
    (inputs / "m_broken.png").write_bytes(b"not an image")
    assert main(["translate", "--checkpoint", str(tiny_run), "--input", str(inputs), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert "m_broken.png" in err and "--skip-bad-files" in err and "Traceback" not in err
    assert not out.exists() or not list(out.iterdir())  # no partial output


def test_skip_bad_files_skips_counts_and_names_them(tiny_run, tmp_path, capsys):
    inputs, out = tmp_path / "photos", tmp_path / "out"
    _images(inputs, ["a.png", "z.png"])
    (inputs / "m_broken.png").write_bytes(b"")
    (inputs / "n_truncated.png").write_bytes((inputs / "a.png").read_bytes()[:200])
    assert main(["translate", "--checkpoint", str(tiny_run), "--input", str(inputs), "--output", str(out),
                 "--skip-bad-files"]) == 0
    printed = capsys.readouterr().out
    assert "Wrote 2 image(s)" in printed and "skipped 2 unreadable" in printed
    assert "m_broken.png" in printed and "n_truncated.png" in printed
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "z.png"]


def test_skip_bad_files_from_python_and_nothing_readable(tmp_path):
    from tfgan_translate.inference import translate_paths

    inputs = tmp_path / "photos"
    _images(inputs, ["a.png"])
    (inputs / "b.png").write_bytes(b"")
    written = translate_paths(_negate, inputs, tmp_path / "out", input_channels=3, skip_bad_files=True)
    assert [p.name for p in written] == ["a.png"] and [p.name for p, _ in written.skipped] == ["b.png"]
    assert "skipped 1 unreadable (--skip-bad-files): b.png" in written.summary()
    (inputs / "a.png").write_bytes(b"")
    with pytest.raises(DataError, match="all 2 image"):
        translate_paths(_negate, inputs, tmp_path / "out2", input_channels=3, skip_bad_files=True)


# ------------------------------------------------------------------ images smaller than the network (issue 19, item 5)
@pytest.fixture(scope="module")
def resnet_run(synth_dir, tmp_path_factory):
    """A pix2pix run with a tiny ResNet generator (2 blocks, ngf 4), trained for one step through the CLI."""
    run = tmp_path_factory.mktemp("resnet_run") / "run"
    assert main(["-q", "train", "pix2pix", "--data", str(synth_dir), "--out", str(run), "--netG", "resnet_2blocks",
                 "--ngf", "4", "--ndf", "4", "--image-size", "32", "--load-size", "32", "--epochs", "1",
                 "--steps-per-epoch", "1", "--batch-size", "1", "--validation-steps", "1", "--precision", "float32",
                 "--strategy", "none", "--seed", "0"]) == 0
    return run


@pytest.mark.parametrize("netG", ["resnet", "unet"])
def test_images_smaller_than_the_network_translate_from_the_cli(resnet_run, tiny_run, tmp_path, capsys, netG):
    """1x1, 3x5 and 7x7 images crashed a ResNet generator inside TensorFlow (exit 1, outputs left behind); a
    small --memory-budget planned 4-px tiles that crashed it too. Each is written at its own size."""
    run = resnet_run if netG == "resnet" else tiny_run
    inputs = tmp_path / "small"
    inputs.mkdir()
    rng = np.random.default_rng(0)
    sizes = {"a_1x1.png": (1, 1), "b_3x5.png": (5, 3), "c_7x7.png": (7, 7), "d_20x20.png": (20, 20)}  # (W, H)
    for name, (width, height) in sizes.items():
        Image.fromarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8)).save(inputs / name)
    for i, flags in enumerate(([], ["--memory-budget", "0.01"], ["--fit", "resize"])):  # 0.01 MiB: smallest tiles
        out = tmp_path / f"out{i}"
        code = main(["translate", "--checkpoint", str(run), "--input", str(inputs), "--output", str(out), *flags])
        captured = capsys.readouterr()
        assert code == 0, (flags, captured.err)
        assert "Wrote 4 image(s)" in captured.out
        assert {p.name: Image.open(p).size for p in out.iterdir()} == sizes, flags


# ------------------------------------------------------------------ the budget bounds decoding (issue 19, item 6)
PEAK_CHILD = """
import json, sys
from pathlib import Path
import tfgan_translate.app.cli, tfgan_translate.inference, tfgan_translate.export, tfgan_translate.training.run

def peak():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024

before = peak()
code = tfgan_translate.app.cli.main(sys.argv[1:])
print(json.dumps({"code": code, "grew": peak() - before}))
"""


def test_an_image_too_large_for_the_memory_budget_is_refused_before_decoding(tiny_run, tmp_path, capsys):
    """A 100 KB PNG of 9000 x 9000 px (81 Mpx, under Pillow's bomb limit) took HEAD to 3.8 GB and exit 0 under
    the 256 MiB default budget. By the budget's rule it needs 1159 MiB (RGB, 8 bits and a float32 copy): it is
    refused from its header with one line, in a process that never grows by the image, and nothing is written."""
    import json
    import re
    import subprocess
    import sys

    from tfgan_translate.inference import translate_files
    from tfgan_translate.networks import build_generator
    from tfgan_translate.output_plan import plan_outputs

    inputs, out = tmp_path / "photos", tmp_path / "out"
    _images(inputs, ["a.png"])
    big = Image.new("L", (9000, 9000), 128)
    big.paste(0, (0, 0, 3000, 3000))
    big.save(inputs / "big.png")
    assert (inputs / "big.png").stat().st_size < 300_000
    command = ["translate", "--checkpoint", str(tiny_run), "--input", str(inputs), "--output", str(out)]
    done = subprocess.run([sys.executable, "-c", PEAK_CHILD, *command], capture_output=True, text=True, timeout=120,
                          check=False)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    errors = [line for line in done.stderr.splitlines() if line.startswith("tfgan-translate")]
    assert result["code"] == 2 and len(errors) == 1, done.stderr[-2000:]
    assert "big.png" in errors[0] and "9000x9000" in errors[0] and "--memory-budget" in errors[0]
    assert "--skip-bad-files" in errors[0] and "Traceback" not in done.stderr
    assert result["grew"] < 200e6, result  # its header was read, its pixels never decoded (81 MB by PIL alone)
    assert not out.exists() or not list(out.iterdir())  # nothing written

    assert main([*command, "--skip-bad-files"]) == 0  # skipped and counted, the rest translated
    printed = capsys.readouterr().out
    assert "Wrote 1 image(s)" in printed and "skipped 1 unreadable or too large" in printed and "big.png" in printed
    assert sorted(p.name for p in out.iterdir()) == ["a.png"]

    g = build_generator("unet_32", ngf=4, dropout=0.0)  # from Python too, before anything is written
    with pytest.raises(DataError, match=r"big\.png: too large .*9000x9000.*--memory-budget .*memory_budget=") as error:
        translate_files(g, inputs, tmp_path / "py")
    assert not (tmp_path / "py").exists()
    advised = float(re.search(r"pass --memory-budget (\d+) or more", str(error.value)).group(1))
    assert 1159 <= advised <= 1160  # 81 Mpx x 3 channels x 5 bytes
    paths, _, _ = plan_outputs(inputs, tmp_path / "py", memory_budget=advised, input_channels=3)  # advice admits it
    assert [p.name for p in paths] == ["a.png", "big.png"]
    written = translate_files(g, inputs, tmp_path / "py", skip_bad_files=True)
    assert [p.name for p in written] == ["a.png"] and [p.name for p, _ in written.skipped] == ["big.png"]
