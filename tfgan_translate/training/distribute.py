"""Choosing a tf.distribute strategy: one device, local GPUs, several machines or a TPU.

`make_strategy(name)` turns the `--strategy` value into a strategy object;
create the model, its optimizers and `compile()` inside `strategy.scope()`,
then train with `model.fit` (or, for "multiworker", with
`tfgan_translate.training.custom_loop.fit_distributed`, see `needs_custom_loop`).

Global batch. Under a strategy the batch size of the dataset given to `fit`
(or `fit_distributed`) is the GLOBAL batch: Keras splits each batch across the
replicas, so with `batch_size=8` on 2 GPUs each GPU sees 4 images per step.
Keep the dataset's batch at `per_replica_batch * strategy.num_replicas_in_sync`
to keep the per-device batch when adding devices (`check_global_batch` checks it splits evenly).

Loss scaling. The models' losses are plain means over each replica's share
of the batch; `TranslationGAN._update` divides them by the number of
replicas (`replica_share`) because the optimizers sum the replicas'
gradients, so the update is that of the mean over the global batch.

Batch norm. By default every replica normalises with the statistics of its own
share of the batch, so N replicas with a global batch B do not compute what
one device does with B. `sync_batch_norm=True` in the config or the network builders
all-reduces the batch statistics across replicas
(`keras.layers.BatchNormalization(synchronized=True)`), which makes them
those of the global batch. Instance norm (CycleGAN's default) is per image
and needs nothing.

Example (`make_strategy("auto")`: TPU, several GPUs, a TF_CONFIG cluster or the default; not run as a
doctest):

>>> strategy = make_strategy("auto")  # doctest: +SKIP
>>> with strategy.scope():  # doctest: +SKIP
...     model = pix2pix_from_config(config)
...     model.compile(g_optimizer=..., d_optimizer=...)
>>> # model.fit(dataset_with_global_batch, ...)  or fit_distributed(model, ...)
"""

import json
import logging
import os
from pathlib import Path

import tensorflow as tf

from tfgan_translate.choices import STRATEGIES, check_choice

log = logging.getLogger("tfgan_translate")

TF_CONFIG_HELP = (
    'Expected a JSON object such as {"cluster": {"worker": ["host1:port", "host2:port"]}, '
    '"task": {"type": "worker", "index": 0}}, the same on every machine except the task index.'
)


def make_strategy(name: str = "auto", *, devices=None) -> tf.distribute.Strategy:
    """Makes the tf.distribute strategy that `--strategy NAME` asks for.

    Args:
        name: str. One of `STRATEGIES`:
            - `"none"`: the default strategy (whatever device TF picks), or
              `OneDeviceStrategy(devices[0])` when one device is given.
            - `"mirrored"`: `MirroredStrategy` over `devices`, or over all
              local GPUs when `devices` is None (the CPU when there is none).
            - `"multiworker"`: `MultiWorkerMirroredStrategy` over the machines
              that the `TF_CONFIG` environment variable lists. Must be made at
              program start, before any other TensorFlow work. Train with
              `fit_distributed` (Keras 3.15's `fit` fails under it).
            - `"tpu"`: `TPUStrategy` on the TPU named by `TPU_NAME` /
              `COLAB_TPU_ADDR`, or on the local TPU of a TPU VM.
            - `"auto"`: "tpu" when a TPU is advertised (environment variables
              or local TPU devices; no network look-up), else "multiworker"
              when `TF_CONFIG` lists more than one task, else "mirrored" when
              there are several GPUs, else "none".
            Defaults to `"auto"`.
        devices: list of str or None. Devices for "mirrored" (e.g.
            `["/gpu:0", "/gpu:1"]`) or the single device for "none".
            Not accepted by "multiworker" and "tpu". Defaults to None.

    Returns:
        A `tf.distribute.Strategy`. The choice is logged at INFO level.

    Raises:
        ValueError: for an unknown name, `devices` where they do not apply, a
            missing or malformed `TF_CONFIG`, or a TPU that cannot be found.

    Example:

    >>> make_strategy("none").num_replicas_in_sync
    1
    >>> make_strategy("mirrored", devices=["/cpu:0"])  # doctest: +SKIP
    """
    check_choice("strategy", name, STRATEGIES)
    if devices is not None:
        devices = [str(d) for d in ([devices] if isinstance(devices, str) else devices)]
        if not devices:
            raise ValueError(
                "Invalid value for argument `devices`. Received: devices=[]. Expected at least one device.")
    if name == "auto":
        name, reason = _auto_choice(devices)
        log.info("strategy auto -> %s (%s)", name, reason)
    if name in ("multiworker", "tpu") and devices is not None:
        raise ValueError(f"Invalid value for argument `devices`. Received: devices={devices!r} with strategy={name!r}. "
                         f"The {name} strategy uses every local accelerator; leave `devices` unset.")
    if name == "none" and devices is not None and len(devices) > 1:
        raise ValueError(f"Invalid value for argument `devices`. Received: devices={devices!r} with strategy='none'. "
                         "Expected one device; use strategy='mirrored' for several.")

    if name == "none":
        strategy = tf.distribute.get_strategy() if devices is None else tf.distribute.OneDeviceStrategy(devices[0])
    elif name == "mirrored":
        strategy = tf.distribute.MirroredStrategy(devices=devices)
    elif name == "multiworker":
        resolver = tf_config_cluster()
        log.info("TF_CONFIG: %s %d of cluster %s", resolver.task_type, resolver.task_id,
                 {job: len(tasks) for job, tasks in resolver.cluster_spec().as_dict().items()})
        strategy = tf.distribute.MultiWorkerMirroredStrategy(cluster_resolver=resolver)
    else:
        strategy = _tpu_strategy()
    log.info("Using %s with %d replica(s) in sync", type(strategy).__name__, strategy.num_replicas_in_sync)
    return strategy


def _auto_choice(devices) -> tuple[str, str]:
    """(strategy name, reason) for "auto", from cheap local facts only."""
    if devices is not None:
        return ("mirrored", f"{len(devices)} devices given") if len(devices) > 1 else ("none", "one device given")
    if (tpu := _tpu_address()) is not None:
        return "tpu", f"TPU found ({tpu})"
    try:  # chief and worker tasks of the TF_CONFIG cluster
        cluster = tf_config_cluster().cluster_spec()
        tasks = sum(cluster.num_tasks(job) for job in ("chief", "worker") if job in cluster.jobs)
    except ValueError:  # unset or invalid: auto does not fail on it
        tasks = 0
    if tasks > 1:
        return "multiworker", f"TF_CONFIG lists {tasks} tasks"
    gpus = tf.config.list_physical_devices("GPU")
    if len(gpus) > 1:
        return "mirrored", f"{len(gpus)} local GPUs"
    return "none", f"{len(gpus)} GPU(s), no TPU, no TF_CONFIG cluster"


def _tpu_address() -> str | None:
    """The TPU that the environment advertises: TPU_NAME, COLAB_TPU_ADDR, or "local" on a TPU VM
    (/dev/accel* devices or TPU_ACCELERATOR_TYPE set). No network look-up."""
    if os.environ.get("TPU_NAME"):
        return os.environ["TPU_NAME"]
    if os.environ.get("COLAB_TPU_ADDR"):
        return "grpc://" + os.environ["COLAB_TPU_ADDR"]
    if any(Path("/dev").glob("accel[0-9]*")) or os.environ.get("TPU_ACCELERATOR_TYPE"):
        return "local"
    return None


def _tpu_strategy() -> tf.distribute.Strategy:
    if (tpu := _tpu_address()) is None:
        raise ValueError("Invalid value for argument `strategy`. Received: strategy='tpu', but no TPU was found: set "
                         "TPU_NAME (a Cloud TPU name or grpc:// address) or COLAB_TPU_ADDR, or run on a TPU VM.")
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, tf.errors.OpError, RuntimeError) as error:
        raise ValueError(f"strategy='tpu': could not connect to the TPU {tpu!r}: {error}") from error
    return tf.distribute.TPUStrategy(resolver)


def tf_config_cluster() -> tf.distribute.cluster_resolver.TFConfigClusterResolver:
    """The cluster that the TF_CONFIG environment variable describes, checked before any worker starts.

    Returns:
        A `tf.distribute.cluster_resolver.TFConfigClusterResolver` (what `MultiWorkerMirroredStrategy` reads).

    Raises:
        ValueError: in one line naming TF_CONFIG, what is wrong with it (missing, not JSON, no task, a task
            or index outside the cluster, an address without a port) and the layout expected.
    """
    text = os.environ.get("TF_CONFIG")
    if not text:
        raise ValueError(
            "strategy='multiworker' needs the TF_CONFIG environment variable, which is not set. " + TF_CONFIG_HELP)
    try:
        resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
        cluster = resolver.cluster_spec()
        if resolver.task_type is None or resolver.task_id is None:
            raise ValueError('it has no "task" object with "type" and "index"')
        cluster.task_address(resolver.task_type, resolver.task_id)  # a job or an index outside the cluster raises
        ports = [address for job in cluster.jobs for address in cluster.job_tasks(job) if ":" not in address]
        if ports:
            raise ValueError(f'{ports[0]!r} is not a "host:port" address')
    except (ValueError, TypeError) as error:
        problem = f"not JSON ({error})" if isinstance(error, json.JSONDecodeError) else str(error).rstrip(".")
        raise ValueError(f"Invalid TF_CONFIG: {problem}. Received: TF_CONFIG={text!r}. " + TF_CONFIG_HELP) from None
    return resolver


def needs_custom_loop(strategy: tf.distribute.Strategy) -> bool:
    """Whether `model.fit` cannot train under `strategy` (Keras 3.15 + MultiWorkerMirroredStrategy).

    Train with `tfgan_translate.training.custom_loop.fit_distributed` when True
    (keras-team/keras#20585).
    """
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def is_chief(strategy: tf.distribute.Strategy | None = None) -> bool:
    """Whether this process should write the run folder (checkpoints, logs, samples).

    True except on the non-chief workers of a multi-worker cluster (`strategy.extended.should_checkpoint`):
    the "chief" task, or worker 0 when the cluster has no chief.
    """
    return (strategy or tf.distribute.get_strategy()).extended.should_checkpoint


def check_global_batch(batch_size: int, strategy: tf.distribute.Strategy | None = None) -> int:
    """Checks that the global `batch_size` splits evenly over the replicas; returns the per-replica batch.

    Raises:
        ValueError: when the batch is smaller than the number of replicas or
            not a multiple of it (some replicas would see fewer images, and the
            result would no longer match one device with the same batch).
    """
    replicas = (strategy or tf.distribute.get_strategy()).num_replicas_in_sync
    if batch_size < replicas or batch_size % replicas:
        raise ValueError(f"Invalid value for argument `batch_size`. Received: batch_size={batch_size} with {replicas} "
                         f"replicas. Under a distribution strategy the batch is the global batch, split across "
                         f"replicas: expected a multiple of {replicas}.")
    return batch_size // replicas


__all__ = ["STRATEGIES", "check_global_batch", "is_chief", "make_strategy", "needs_custom_loop", "tf_config_cluster"]
