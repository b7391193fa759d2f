"""The tutorial notebooks: committed without outputs, and running top to bottom in a small configuration.

Each notebook is executed with nbclient (kernel "python3", which ipykernel provides) in a temporary working
folder. The small configuration goes in the way papermill does it: a cell tagged "injected-parameters" right
after the cell tagged "parameters", so the notebooks themselves keep the paper's settings as defaults.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import FACADES

nbformat = pytest.importorskip("nbformat", reason="the notebook tests need the test extra: pip install -e '.[test]'")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = ("pix2pix.ipynb", "cyclegan.ipynb", "cut.ipynb")

# Small enough for about half a minute per notebook on a 2-core CPU.
SMOKE = {
    "pix2pix.ipynb": dict(IMAGE_SIZE=64, LOAD_SIZE=72, EPOCHS=2, DECAY_EPOCHS=1, STEPS_PER_EPOCH=6,
                          VALIDATION_STEPS=4, NGF=8, NDF=8, ABLATION_EPOCHS=1, ABLATION_STEPS=4,
                          SYNTH_TRAIN=12, SYNTH_TEST=4, TENSORBOARD_INLINE=False, ABLATION_EAGER=True,
                          SAVED_MODEL=False),
    "cyclegan.ipynb": dict(IMAGE_SIZE=32, LOAD_SIZE=36, EPOCHS=2, DECAY_EPOCHS=1, STEPS_PER_EPOCH=6,
                           VALIDATION_STEPS=4, N_BLOCKS=2, NGF=8, NDF=8, POOL_SIZE=10,
                           SYNTH_TRAIN=12, SYNTH_TEST=4, TENSORBOARD_INLINE=False, SAVED_MODEL=False),
    "cut.ipynb": dict(MODE="fastcut", IMAGE_SIZE=32, LOAD_SIZE=36, EPOCHS=2, DECAY_EPOCHS=1, STEPS_PER_EPOCH=6,
                      VALIDATION_STEPS=4, N_BLOCKS=2, NGF=8, NDF=8, NCE_LAYERS=(0, 4, 8, 12), NUM_PATCHES=32,
                      PROJECTION_UNITS=32, SYNTH_TRAIN=12, SYNTH_TEST=4, TENSORBOARD_INLINE=False,
                      SAVED_MODEL=False),
}
# The SavedModel half of the export (SAVED_MODEL=False here) is tested in test_export.py.


def read(name: str):
    return nbformat.read(NOTEBOOKS / name, as_version=4)


def parameters_index(notebook) -> int:
    tagged = [i for i, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1, f"expected exactly one cell tagged 'parameters', found {len(tagged)}"
    return tagged[0]


def inject(notebook, values: dict):
    """Adds the papermill-style "injected-parameters" cell after the "parameters" cell."""
    source = "# Parameters injected by tests/test_notebooks.py\n" + "".join(
        f"{name} = {value!r}\n" for name, value in values.items())
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    notebook.cells.insert(parameters_index(notebook) + 1, cell)
    return notebook


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebook_is_clean(name):
    """No outputs or execution counts in the repository, valid nbformat, one parameters cell naming the knobs."""
    notebook = read(name)
    nbformat.validate(notebook)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{name}: cell {index} has outputs; strip them before committing"
            assert cell.execution_count is None, f"{name}: cell {index} has an execution count"
    parameters = notebook.cells[parameters_index(notebook)].source
    for knob in SMOKE[name]:
        assert f"{knob} =" in parameters or f"{knob}," in parameters, f"{name}: {knob} not in the parameters cell"
    assert notebook.metadata["kernelspec"]["name"] == "python3"


def run(name: str, tmp_path: Path, monkeypatch, data: str):
    """Executes notebook `name` in tmp_path on the built-in data ("synth") or the real facades found through
    $TFGAN_FACADES ("facades"), as a user would point to them."""
    if data == "facades" and not (FACADES / "train").is_dir():
        pytest.skip(f"real facades set not found at {FACADES} (it sits in ../shared beside the repository)")
    for module in ("nbclient", "ipykernel", "matplotlib", "ai_edge_litert"):
        pytest.importorskip(module, reason="the notebook tests need the test extra: pip install -e '.[test]'")
    from nbclient import NotebookClient

    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    values = dict(SMOKE[name])
    if data == "facades":
        monkeypatch.setenv("TFGAN_FACADES", str(FACADES))  # found by the notebook's DATA_PATH = None
    else:
        monkeypatch.delenv("TFGAN_FACADES", raising=False)
        values["DATA_PATH"] = "synth"
    notebook = inject(read(name), values)
    start = time.monotonic()
    # The kernel starts in tmp_path: every relative path (runs/, data/) stays inside it.
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
                   ).execute()  # raises CellExecutionError, naming the cell, on any error
    print(f"{name} ({data}) ran in {time.monotonic() - start:.1f} s")
    return notebook


def outputs_text(notebook) -> str:
    return "\n".join(output.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                     for output in cell.outputs if output.get("output_type") == "stream")


def images(notebook) -> int:
    return sum("image/png" in output.get("data", {}) for cell in notebook.cells if cell.cell_type == "code"
               for output in cell.outputs)


@pytest.mark.parametrize("data", ["synth", "facades"])
def test_pix2pix_notebook_runs(data, tmp_path, monkeypatch):
    notebook = run("pix2pix.ipynb", tmp_path, monkeypatch, data)
    text = outputs_text(notebook)
    assert f"direction {'BtoA' if data == 'facades' else 'AtoB'}" in text
    assert "max |TFLite - Keras|" in text
    assert images(notebook) >= 5  # batch, losses, results, comparison, TFLite grids
    run_dir = tmp_path / "runs" / "pix2pix_notebook"
    assert (run_dir / "checkpoints" / "latest.keras").is_file()
    assert (run_dir / "samples" / "epoch_0003.png").is_file()
    assert list((run_dir / "logs").rglob("events.out.tfevents.*"))
    assert (run_dir / "export" / "generator_float32.tflite").is_file()


@pytest.mark.parametrize("data", ["synth", "facades"])
def test_cyclegan_notebook_runs(data, tmp_path, monkeypatch):
    notebook = run("cyclegan.ipynb", tmp_path, monkeypatch, data)
    text = outputs_text(notebook)
    assert "max |TFLite - Keras|" in text
    assert f"direction {'BtoA' if data == 'facades' else 'AtoB'}: X = label maps, Y = photos" in text
    assert "pool_b: 10 of 10 images stored" in text  # 18 generated photos went through a pool of 10
    assert images(notebook) >= 5
    run_dir = tmp_path / "runs" / "cyclegan_notebook"
    assert (run_dir / "checkpoints" / "latest.keras").is_file()
    assert (run_dir / "export" / "generator_float32.tflite").is_file()


def test_cut_notebook_runs(tmp_path, monkeypatch):
    """FastCUT on the built-in data (the facades discovery is the same code as the other two notebooks')."""
    notebook = run("cut.ipynb", tmp_path, monkeypatch, "synth")
    text = outputs_text(notebook)
    assert "direction AtoB: X = label maps, Y = photos" in text
    assert "fastcut: lambda_nce 10, identity term False, flip equivariance True" in text
    assert "PatchNCE of G(x) against its own x" in text and "max |TFLite - Keras|" in text
    assert images(notebook) >= 3  # batch, losses, translations (and the TFLite grid)
    run_dir = tmp_path / "runs" / "cut_notebook"
    assert (run_dir / "checkpoints" / "latest.keras").is_file()
    assert list((run_dir / "logs").rglob("events.out.tfevents.*"))
    export = sorted(p.name for p in (run_dir / "export").iterdir())
    assert "generator_float32.tflite" in export and "saved_model" not in export
