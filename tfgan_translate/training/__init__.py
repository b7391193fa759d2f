"""Running training: the `train` entry point and the callbacks that fill a run folder."""

from tfgan_translate.training.checkpoints import RunCheckpoint, save_model_atomic
from tfgan_translate.training.monitoring import ProgressLog, StopOnNonFinite, TensorBoardLogger, TrainingDiverged
from tfgan_translate.training.previews import SampleGrid, image_grid
from tfgan_translate.training.run import TrainResult, build_model, load_run, train

__all__ = ["ProgressLog", "RunCheckpoint", "SampleGrid", "StopOnNonFinite", "TensorBoardLogger", "TrainResult",
           "TrainingDiverged", "build_model", "image_grid", "load_run", "save_model_atomic", "train"]
