"""Choosing a tf.distribute strategy: one device, local GPUs, several machines or a TPU.

`make_strategy(name)` turns the `--strategy` value into a strategy object;
create the model, its optimizers and `compile()` inside `strategy.scope()`,
then train with `model.fit` (or, for "multiworker", with
`tfgan_translate.training.custom_loop.fit_distributed`, see `needs_custom_loop`).

Global batch. Under a strategy the batch size of the dataset given to `fit`
(or `fit_distributed`) is the GLOBAL batch: Keras splits each batch across the
replicas, so with `batch_size=8` on 2 GPUs each GPU sees 4 images per step.
Keep the dataset's batch at `per_replica_batch * strategy.num_replicas_in_sync`
to keep the per-device batch when adding devices (`global_batch_size`).

Loss scaling. The models' losses are plain means over each replica's share
of the batch; `TranslationGAN._update` divides them by the number of
replicas (`replica_share`) because the optimizers sum the replicas'
gradients, so the update is that of the mean over the global batch.

Batch norm. By default every replica normalises with the statistics of its own
share of the batch, so N replicas with a global batch B do not compute what
one device does with B. `sync_batch_norm=True` in the network builders (or
`synchronize_batch_norm(model)` on an existing model, before training)
all-reduces the batch statistics across replicas
(`keras.layers.BatchNormalization(synchronized=True)`), which makes them
those of the global batch. Instance norm (CycleGAN's default) is per image
and needs nothing.

Example:

>>> strategy = make_strategy("auto")  # TPU, several GPUs, TF_CONFIG cluster or the default
>>> with strategy.scope():
...     model = pix2pix_from_config(config)
...     model.compile(g_optimizer=..., d_optimizer=...)
>>> # model.fit(dataset_with_global_batch, ...)  or fit_distributed(model, ...)
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import keras
import tensorflow as tf

log = logging.getLogger("tfgan_translate")

STRATEGIES = ("auto", "none", "mirrored", "multiworker", "tpu")

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
    if not isinstance(name, str) or name not in STRATEGIES:
        raise ValueError(
            f"Invalid value for argument `strategy`. Received: strategy={name!r}. Expected one of {list(STRATEGIES)}."
        )
    if devices is not None:
        devices = [str(d) for d in ([devices] if isinstance(devices, str) else devices)]
        if not devices:
            raise ValueError(
                "Invalid value for argument `devices`. Received: devices=[]. Expected at least one device.")
    if name == "auto":
        name, reason = _auto_choice(devices)
        log.info("strategy auto -> %s (%s)", name, reason)
    if name in ("multiworker", "tpu") and devices is not None:
        raise ValueError(
            f"Invalid value for argument `devices`. Received: devices={devices!r} with strategy={name!r}. "
            f"The {name} strategy uses every local accelerator; leave `devices` unset."
        )

    if name == "none":
        if devices is None:
            strategy = tf.distribute.get_strategy()
        elif len(devices) == 1:
            strategy = tf.distribute.OneDeviceStrategy(devices[0])
        else:
            raise ValueError(
                f"Invalid value for argument `devices`. Received: devices={devices!r} with strategy='none'. "
                "Expected one device; use strategy='mirrored' for several."
            )
    elif name == "mirrored":
        strategy = tf.distribute.MirroredStrategy(devices=devices)
    elif name == "multiworker":
        strategy = _multiworker_strategy()
    else:
        strategy = _tpu_strategy()
    log.info("Using %s with %d replica(s) in sync", type(strategy).__name__, strategy.num_replicas_in_sync)
    return strategy


def _auto_choice(devices) -> tuple[str, str]:
    """(strategy name, reason) for "auto", from cheap local facts only."""
    if devices is not None:
        return ("mirrored", f"{len(devices)} devices given") if len(devices) > 1 else ("none", "one device given")
    tpu = _tpu_address()
    if tpu is not None:
        return "tpu", f"TPU found ({tpu})"
    tasks = _tf_config_task_count()
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
    tpu = _tpu_address()
    if tpu is None:
        raise ValueError(
            "Invalid value for argument `strategy`. Received: strategy='tpu', but no TPU was found: "
            "set TPU_NAME (a Cloud TPU name or grpc:// address) or COLAB_TPU_ADDR, or run on a TPU VM."
        )
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, tf.errors.OpError, RuntimeError) as error:
        raise ValueError(f"strategy='tpu': could not connect to the TPU {tpu!r}: {error}") from error
    return tf.distribute.TPUStrategy(resolver)


def parse_tf_config(text: str | None = None) -> dict:
    """Reads and checks the TF_CONFIG cluster description (the environment variable by default).

    Args:
        text: str or None. The JSON text; None reads `os.environ["TF_CONFIG"]`.

    Returns:
        The parsed dict, with "cluster" (task type -> list of "host:port")
        and "task" ({"type": ..., "index": ...}).

    Raises:
        ValueError: naming TF_CONFIG and the expected layout when it is
            missing, not JSON, or inconsistent.

    Example:

    >>> parse_tf_config('{"cluster": {"worker": ["127.0.0.1:2222"]}, "task": {"type": "worker", "index": 0}}')["task"]
    {'type': 'worker', 'index': 0}
    """
    if text is None:
        text = os.environ.get("TF_CONFIG")
        if not text:
            raise ValueError(
                "strategy='multiworker' needs the TF_CONFIG environment variable, which is not set. " + TF_CONFIG_HELP
            )
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"Invalid TF_CONFIG: not JSON ({error}). Received: TF_CONFIG={text!r}. "
                         + TF_CONFIG_HELP) from None
    cluster = config.get("cluster") if isinstance(config, dict) else None
    task = config.get("task") if isinstance(config, dict) else None
    problem = None
    if not isinstance(cluster, dict) or not cluster:
        problem = 'it has no "cluster" object'
    elif not all(isinstance(v, list) and v and all(isinstance(a, str) and ":" in a for a in v)
                 for v in cluster.values()):
        problem = 'every "cluster" entry must be a non-empty list of "host:port" strings'
    elif not isinstance(task, dict) or "type" not in task or "index" not in task:
        problem = 'it has no "task" object with "type" and "index"'
    elif task["type"] not in cluster:
        problem = f'task type {task["type"]!r} is not in the cluster ({sorted(cluster)})'
    elif not isinstance(task["index"], int) or not 0 <= task["index"] < len(cluster[task["type"]]):
        problem = f'task index {task["index"]!r} is out of range for {len(cluster[task["type"]])} {task["type"]}(s)'
    if problem:
        raise ValueError(f"Invalid TF_CONFIG: {problem}. Received: TF_CONFIG={text!r}. " + TF_CONFIG_HELP)
    return config


def _tf_config_task_count() -> int:
    """Tasks in TF_CONFIG's cluster; 0 when it is unset or unreadable (auto must not fail on it)."""
    try:
        config = parse_tf_config()
    except ValueError:
        return 0
    return sum(len(v) for k, v in config["cluster"].items() if k in ("chief", "worker"))


def _multiworker_strategy() -> tf.distribute.Strategy:
    config = parse_tf_config()
    log.info("TF_CONFIG: %s %d of cluster %s", config["task"]["type"], config["task"]["index"],
             {k: len(v) for k, v in config["cluster"].items()})
    return tf.distribute.MultiWorkerMirroredStrategy()


def needs_custom_loop(strategy: tf.distribute.Strategy) -> bool:
    """Whether `model.fit` cannot train under `strategy` (Keras 3.15 + MultiWorkerMirroredStrategy).

    Train with `tfgan_translate.training.custom_loop.fit_distributed` when True
    (keras-team/keras#20585).
    """
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def is_chief(strategy: tf.distribute.Strategy | None = None) -> bool:
    """Whether this process should write the run folder (checkpoints, logs, samples).

    True except on the non-chief workers of a multi-worker cluster: the
    "chief" task, or worker 0 when the cluster has no chief.
    """
    strategy = strategy or tf.distribute.get_strategy()
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return resolver.task_type == "worker" and resolver.task_id == 0 and not has_chief


def global_batch_size(per_replica_batch: int, strategy: tf.distribute.Strategy | None = None) -> int:
    """The dataset batch that gives each replica `per_replica_batch` images: the batch for `fit`.

    Example:

    >>> global_batch_size(4, tf.distribute.get_strategy())
    4
    """
    if isinstance(per_replica_batch, bool) or not isinstance(per_replica_batch, int) or per_replica_batch < 1:
        raise ValueError(
            f"Invalid value for argument `per_replica_batch`. Received: per_replica_batch={per_replica_batch!r}. "
            "Expected an integer >= 1."
        )
    strategy = strategy or tf.distribute.get_strategy()
    return per_replica_batch * strategy.num_replicas_in_sync


def check_global_batch(batch_size: int, strategy: tf.distribute.Strategy | None = None) -> int:
    """Checks that the global `batch_size` splits evenly over the replicas; returns the per-replica batch.

    Raises:
        ValueError: when the batch is smaller than the number of replicas or
            not a multiple of it (some replicas would see fewer images, and the
            result would no longer match one device with the same batch).
    """
    strategy = strategy or tf.distribute.get_strategy()
    replicas = strategy.num_replicas_in_sync
    if batch_size < replicas or batch_size % replicas:
        raise ValueError(
            f"Invalid value for argument `batch_size`. Received: batch_size={batch_size} with {replicas} replicas. "
            f"Under a distribution strategy the batch is the global batch, split across replicas: expected a "
            f"multiple of {replicas}."
        )
    return batch_size // replicas


def synchronize_batch_norm(model: keras.Model, synchronized: bool = True) -> int:
    """Makes every BatchNormalization layer of `model` (nested models included) use cross-replica statistics.

    Call it before the first training step (the flag is read when the train
    function is traced). It is saved in the layers' configs. Builders take
    `sync_batch_norm=True` for the same effect at construction.

    Args:
        model: keras.Model. E.g. a Pix2Pix or CycleGAN, or one network.
        synchronized: bool. The value to set. Defaults to True.

    Returns:
        The number of BatchNormalization layers changed.
    """
    count = 0
    for layer in _all_layers(model):
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.synchronized = bool(synchronized)
            count += 1
    return count


def _all_layers(layer):
    seen = set()
    stack = [layer]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, keras.Model):
            stack.extend(current.layers)


__all__ = [
    "STRATEGIES",
    "check_global_batch",
    "global_batch_size",
    "is_chief",
    "make_strategy",
    "needs_custom_loop",
    "parse_tf_config",
    "synchronize_batch_norm",
]
