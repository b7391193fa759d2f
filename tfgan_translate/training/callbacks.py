"""The Keras callbacks that fill a run folder, in one place for `model.fit` users.

Each callback gets what it needs explicitly (sample batches, folders), so the
same objects work from `model.fit` in a notebook and from the command line:

- `SampleGrid`: preview grids as PNG files, an HTML gallery and TensorBoard images;
- `TensorBoardLogger`: every loss per step and per epoch, learning rates, hyperparameters;
- `RunCheckpoint`: atomic whole-model checkpoints, the newest K kept;
- `StopOnNonFinite`: stops at a NaN/Inf loss, keeping the last good checkpoint;
- `ProgressLog`: steps/s and an ETA in one plain line after each epoch (and every N steps if asked).
"""

from tfgan_translate.training.checkpoints import RunCheckpoint, save_model_atomic
from tfgan_translate.training.monitoring import ProgressLog, StopOnNonFinite, TensorBoardLogger, TrainingDiverged
from tfgan_translate.training.previews import SampleGrid, image_grid, save_png_atomic, to_rgb_uint8, write_gallery

__all__ = ["ProgressLog", "RunCheckpoint", "SampleGrid", "StopOnNonFinite", "TensorBoardLogger", "TrainingDiverged",
           "image_grid", "save_model_atomic", "save_png_atomic", "to_rgb_uint8", "write_gallery"]
