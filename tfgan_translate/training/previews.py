"""Preview images of a run: grids of fixed samples, as PNG files, in TensorBoard and an HTML gallery."""

import html
from pathlib import Path

import numpy as np
import tensorflow as tf
from PIL import Image

from tfgan_translate.data.files import image_grid
from tfgan_translate.io import atomic_file, write_text
from tfgan_translate.networks.layers import check_positive
from tfgan_translate.training.monitoring import SummaryCallback


class SampleGrid(SummaryCallback):
    """Preview grids of fixed samples: a PNG per epoch, an HTML gallery and TensorBoard images.

    The columns come from the model's `sample_columns(x, y)`: input | output |
    target for Pix2Pix; real | translated | reconstructed | identity for both
    domains for CycleGAN. After every epoch the grid is written to
    `out_dir/epoch_NNNN.png` and `out_dir/index.html` (all grids, newest
    first) is rewritten; with `log_dir`, the grid also goes to TensorBoard
    (tag "samples", step = the generator optimizer's step) at each epoch end
    and every `every_steps` steps.

    Args:
        x: (N, H, W, C_in) inputs (pix2pix) or domain-A images (CycleGAN) in [-1, 1].
        y: (N, H, W, C_out) targets (pix2pix) or domain-B images (CycleGAN) in [-1, 1].
        out_dir: str or Path. Folder for the PNG files and index.html.
        log_dir: str, Path or None. TensorBoard folder. Defaults to None.
        every_steps: int or None. Step interval of the TensorBoard images
            within epochs. Defaults to None (epoch ends only).

    Example:

    >>> # grid = SampleGrid(x_val[:4], y_val[:4], "runs/demo/samples", "runs/demo/logs")
    >>> # model.fit(train, epochs=10, callbacks=[grid])
    """

    def __init__(self, x, y, out_dir, log_dir=None, every_steps: int | None = None):
        check_positive("every_steps", every_steps, optional=True)
        super().__init__(log_dir)
        self.x, self.y = np.asarray(x), np.asarray(y)
        self.out_dir = Path(out_dir)
        self.every_steps = every_steps

    def grid(self) -> np.ndarray:
        return image_grid(self.model.sample_columns(self.x, self.y))

    def _to_tensorboard(self, grid, step):
        if self.log_dir is None:
            return
        writer = self._writer("samples")
        with writer.as_default():
            tf.summary.image("samples", grid[None], step=step)
        writer.flush()

    def on_train_batch_end(self, batch, logs=None):
        if self.every_steps and self.model.steps_run % self.every_steps == 0:
            self._to_tensorboard(self.grid(), self.model.steps_run)

    def on_epoch_end(self, epoch, logs=None):
        if getattr(self.model, "diverged", None):
            return
        grid = self.grid()
        with atomic_file(self.out_dir / f"epoch_{epoch + 1:04d}.png") as tmp:
            Image.fromarray(grid).save(tmp, format="PNG")
        write_gallery(self.out_dir)
        self._to_tensorboard(grid, self.model.steps_run)


def write_gallery(folder: str | Path, title: str = "Samples") -> Path:
    """Writes `folder/index.html` showing every epoch_NNNN.png there, newest first, with epoch labels."""
    folder = Path(folder)
    images = sorted(folder.glob("epoch_*.png"), reverse=True)
    items = "\n".join(
        f'<figure><figcaption>epoch {int(p.stem.split("_")[1])}</figcaption>'
        f'<img src="{html.escape(p.name)}" alt="epoch {int(p.stem.split("_")[1])}"></figure>'
        for p in images
    )
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:1em}} figure{{margin:0 0 1.5em}}
img{{image-rendering:pixelated;max-width:100%}} figcaption{{font-weight:bold;margin-bottom:.3em}}</style>
</head><body><h1>{html.escape(title)}</h1>
{items}
</body></html>
"""
    return write_text(folder / "index.html", page)
