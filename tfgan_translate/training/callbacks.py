"""Keras callbacks for runs: preview grids and atomic checkpoints.

Each callback gets what it shows explicitly (fixed sample batches, folders),
so the same objects work from `model.fit` in a notebook and from the CLI.
"""

from __future__ import annotations

import os
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from PIL import Image


def to_rgb_uint8(images) -> np.ndarray:
    """(B, H, W, C) in [-1, 1] with C in {1, 3, 4, N} -> (B, H, W, 3) uint8 for display.

    One channel is shown as gray, four as RGB (alpha dropped), other counts show
    their first three channels (or the first, as gray, when fewer than three).
    """
    images = np.asarray(images, dtype=np.float32)
    channels = images.shape[-1]
    if channels >= 3:
        images = images[..., :3]
    else:
        images = np.repeat(images[..., :1], 3, axis=-1)
    return np.round((np.clip(images, -1.0, 1.0) + 1.0) * 127.5).astype(np.uint8)


def image_grid(columns: list, gap: int = 2) -> np.ndarray:
    """Lays out rows of images: `columns[j][i]` is row i, column j.

    Args:
        columns: list of (B, H, W, C) arrays in [-1, 1], one per column
            (for pix2pix: inputs, outputs, targets).
        gap: int. White pixels between tiles. Defaults to 2.

    Returns:
        (B*H + gaps, ncols*W + gaps, 3) uint8 array.
    """
    tiles = [to_rgb_uint8(c) for c in columns]
    rows, height, width = tiles[0].shape[:3]
    ncols = len(tiles)
    grid = np.full((rows * height + (rows - 1) * gap, ncols * width + (ncols - 1) * gap, 3), 255, np.uint8)
    for j, tile in enumerate(tiles):
        for i in range(rows):
            top, left = i * (height + gap), j * (width + gap)
            grid[top:top + height, left:left + width] = tile[i]
    return grid


def save_png_atomic(array: np.ndarray, path: str | Path) -> Path:
    """Writes a uint8 image so that `path` is either absent, the old file, or complete."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    Image.fromarray(array).save(tmp, format="PNG")
    os.replace(tmp, path)
    return path


class SampleGrid(keras.callbacks.Callback):
    """Saves a preview grid of fixed samples after every `every` epochs.

    The columns come from the model's `sample_columns(x, y)`: input | output |
    target for Pix2Pix; real | translated | reconstructed | identity for both
    domains for CycleGAN.

    Writes `out_dir/epoch_0001.png`, ... and, with `log_dir`, the same image to
    TensorBoard under the tag "samples" (step = epoch).

    Args:
        x: (N, H, W, C_in) inputs (pix2pix) or domain-A images (CycleGAN) in [-1, 1].
        y: (N, H, W, C_out) targets (pix2pix) or domain-B images (CycleGAN) in [-1, 1].
        out_dir: str or Path. Folder for the PNG files.
        log_dir: str, Path or None. TensorBoard folder. Defaults to None.
        every: int. Epoch interval. Defaults to 1.

    Example:

    >>> # grid = SampleGrid(x_val[:4], y_val[:4], "runs/demo/samples", "runs/demo/logs")
    >>> # model.fit(train, epochs=10, callbacks=[grid])
    """

    def __init__(self, x, y, out_dir, log_dir=None, every: int = 1):
        super().__init__()
        if every <= 0:
            raise ValueError(f"Invalid value for argument `every`. Received: every={every}. Expected a positive integer.")
        self.x, self.y = np.asarray(x), np.asarray(y)
        self.out_dir = Path(out_dir)
        self.log_dir = None if log_dir is None else str(log_dir)
        self.every = every
        self._writer = None
        self.last_path: Path | None = None

    def grid(self) -> np.ndarray:
        return image_grid([np.asarray(c) for c in self.model.sample_columns(self.x, self.y)])

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        grid = self.grid()
        self.last_path = save_png_atomic(grid, self.out_dir / f"epoch_{epoch + 1:04d}.png")
        if self.log_dir is not None:
            if self._writer is None:
                self._writer = tf.summary.create_file_writer(os.path.join(self.log_dir, "samples"))
            with self._writer.as_default():
                tf.summary.image("samples", grid[None], step=epoch + 1)
            self._writer.flush()


class AtomicModelCheckpoint(keras.callbacks.Callback):
    """Saves the whole model (networks, optimizers, config) to one `.keras` file each epoch.

    The file is written next to its final name and renamed over it, so a crash
    mid-write leaves the previous checkpoint intact.

    Args:
        path: str or Path ending in ".keras".
        every: int. Epoch interval. Defaults to 1.
    """

    def __init__(self, path, every: int = 1):
        super().__init__()
        self.path = Path(path)
        if self.path.suffix != ".keras":
            raise ValueError(f"Invalid value for argument `path`. Received: path={str(path)!r}. Expected a .keras file.")
        self.every = every

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0:
            save_model_atomic(self.model, self.path)


def save_model_atomic(model: keras.Model, path: str | Path) -> Path:
    """`model.save(path)` through a temporary file and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.keras")
    model.save(tmp)
    os.replace(tmp, path)
    return path
