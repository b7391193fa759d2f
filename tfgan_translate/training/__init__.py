"""Running training: the `train` entry point and the callbacks that fill a run folder."""

from tfgan_translate.training.callbacks import AtomicModelCheckpoint, SampleGrid, image_grid, save_model_atomic
from tfgan_translate.training.run import TrainResult, load_run, train

__all__ = ["AtomicModelCheckpoint", "SampleGrid", "image_grid", "save_model_atomic", "TrainResult", "load_run",
           "train"]
