"""`fit_distributed`: a `fit` replacement for strategies that Keras' `fit` cannot train under.

Keras 3.15's `fit` fails under `MultiWorkerMirroredStrategy`
(keras-team/keras#20585: its symbolic build reduces PerReplica inputs and the
scalar logs fail the reduction on axis 0). This loop runs the model's own
`train_step` with `strategy.run` over `strategy.experimental_distribute_dataset`
and drives the usual Keras callbacks, so TensorBoard, checkpoint and sample
callbacks work unchanged. It works under every strategy (the tests check it
against `fit` under MirroredStrategy).

Rules (the same as for `fit` under a strategy):

- Create the model AND its optimizers, and call `compile()`, inside
  `strategy.scope()`: their variables must be distributed variables.
- The dataset's batch is the GLOBAL batch; it is split across all replicas
  of all workers. On several workers every worker builds the same dataset;
  it is sharded by data (`AutoShardPolicy.DATA`): each worker keeps its part
  of every global batch, so no file-per-worker layout is needed.
- Callbacks run on every worker. On multi-worker clusters give the callbacks
  that write files (checkpoints, logs) a per-worker folder on non-chief
  workers, or only use them where `distribute.is_chief()` is true.

Example (at program start, with TF_CONFIG set; not run as a doctest):

>>> strategy = make_strategy("multiworker")  # doctest: +SKIP
>>> with strategy.scope():  # doctest: +SKIP
...     model = pix2pix_from_config(config)
...     model.compile(g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
...                   d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
>>> history = fit_distributed(model, dataset, epochs=5, steps_per_epoch=100, strategy=strategy)  # doctest: +SKIP
"""

import itertools

import keras
import tensorflow as tf

from tfgan_translate.networks.layers import check_positive


def _check_model(model, strategy):
    if not getattr(model, "compiled", False):
        raise ValueError("fit_distributed needs a compiled model: call `model.compile(...)` inside `strategy.scope()`.")
    optimizers = [getattr(model, name, None) for name in ("g_optimizer", "d_optimizer", "optimizer")]
    variables = [*model.trainable_variables,
                 *(v for optimizer in optimizers if getattr(optimizer, "built", False) for v in optimizer.variables)]
    outside = [v.path for v in variables if not strategy.extended.variable_created_in_scope(v.value)]
    if outside:
        raise ValueError(f"The model's variables were not created under this strategy's scope (e.g. {outside[0]}): "
                         "create the model and its optimizers and call `compile()` inside `with strategy.scope():`.")


def fit_distributed(model: keras.Model, dataset: tf.data.Dataset, *, epochs: int, steps_per_epoch: int,
                    strategy: tf.distribute.Strategy | None = None, callbacks=None, initial_epoch: int = 0,
                    validation_data: tf.data.Dataset | None = None, validation_steps: int | None = None,
                    verbose: int = 1) -> dict:
    """Trains `model` like `model.fit`, with a custom distributed loop (for MultiWorkerMirroredStrategy).

    Each step runs `strategy.run(model.train_step, args=(batch,))` in a
    `tf.function`; the logs are the model's tracker results (means since the
    start of the epoch) averaged over the replicas, the same values as `fit`
    logs. Metrics are reset at the start of every epoch. Callbacks get
    `on_train_begin`, `on_epoch_begin`, `on_train_batch_begin/end` (with the
    logs), `on_epoch_end` (with the epoch logs plus `val_*` ones) and
    `on_train_end`, and can stop training with `model.stop_training = True`.

    Args:
        model: keras.Model with a `train_step` (Pix2Pix, CycleGAN), created
            and compiled inside `strategy.scope()`.
        dataset: tf.data.Dataset of GLOBAL batches, repeated (at least
            `steps_per_epoch * (epochs - initial_epoch)` batches).
        epochs: int. Index of the last epoch, as in `fit`.
        steps_per_epoch: int. Training steps per epoch.
        strategy: tf.distribute.Strategy or None. Defaults to the model's
            strategy (the one whose scope it was created in).
        callbacks: list of keras.callbacks.Callback or None.
        initial_epoch: int. Epoch to start at (for resuming). Defaults to 0.
        validation_data: tf.data.Dataset or None. Finite dataset of global
            batches for `model.test_step` after every epoch. Defaults to None.
        validation_steps: int or None. Validation batches per epoch; None
            runs the whole `validation_data`.
        verbose: int. 0 silent, 1 progress bar. Defaults to 1.

    Returns:
        dict: the History callback's `history` (metric name -> list of
        per-epoch values), like `model.fit(...).history`.

    Raises:
        ValueError: for bad step counts, or a model that is not compiled or
            not created under `strategy.scope()`.
    """
    strategy = strategy or model.distribute_strategy
    check_positive("epochs", epochs, minimum=0)
    check_positive("steps_per_epoch", steps_per_epoch)
    check_positive("initial_epoch", initial_epoch, minimum=0)
    _check_model(model, strategy)

    def mean_over_replicas(step, batch):
        """`strategy.run(step)`'s tracker results, each the mean over the replicas.

        Keras metric variables are sync-on-read: inside `strategy.run` each replica reads the mean of its
        own share of the batches, so the global mean is the mean over replicas (their shares are equal).
        `axis=None`: the reduction that works for scalars under MultiWorkerMirroredStrategy too.
        """
        results = strategy.run(step, args=(batch,))
        return tf.nest.map_structure(lambda v: strategy.reduce(tf.distribute.ReduceOp.MEAN, v, axis=None), results)

    train_function = tf.function(lambda iterator: mean_over_replicas(model.train_step, next(iterator)))
    test_function = tf.function(lambda batch: mean_over_replicas(model.test_step, batch))
    # Each worker keeps its part of every global batch (sharded by data, not by file).
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA

    history = keras.callbacks.History()
    callback_list = keras.callbacks.CallbackList(
        [*(callbacks or []), history], add_progbar=verbose != 0, model=model, verbose=verbose, epochs=epochs,
        steps=steps_per_epoch)
    iterator = iter(strategy.experimental_distribute_dataset(dataset.with_options(options)))
    val_dataset = (None if validation_data is None else
                   strategy.experimental_distribute_dataset(validation_data.with_options(options)))

    model.stop_training = False
    callback_list.on_train_begin()
    epoch_logs: dict = {}
    for epoch in range(initial_epoch, epochs):
        model.reset_metrics()
        callback_list.on_epoch_begin(epoch)
        logs: dict = {}
        for step in range(steps_per_epoch):
            callback_list.on_train_batch_begin(step)
            try:
                logs = {name: float(value) for name, value in train_function(iterator).items()}
            except (StopIteration, tf.errors.OutOfRangeError):
                raise ValueError(f"The training dataset ran out at epoch {epoch}, step {step}: repeat it "
                                 f"(`dataset.repeat()`) or lower `steps_per_epoch` ({steps_per_epoch}).") from None
            callback_list.on_train_batch_end(step, logs)
            if model.stop_training:
                break
        epoch_logs = dict(logs)
        if val_dataset is not None:  # one pass of test_step over the validation set, like fit's
            model.reset_metrics()
            callback_list.on_test_begin()
            val_logs: dict = {}
            for step, batch in enumerate(itertools.islice(val_dataset, validation_steps)):
                callback_list.on_test_batch_begin(step)
                val_logs = {name: float(value) for name, value in test_function(batch).items()}
                callback_list.on_test_batch_end(step, val_logs)
            callback_list.on_test_end(val_logs)
            epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
        callback_list.on_epoch_end(epoch, epoch_logs)
        if model.stop_training:
            break
    callback_list.on_train_end(epoch_logs)
    return history.history


__all__ = ["fit_distributed"]
