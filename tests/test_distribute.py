"""tf.distribute: strategy choice, MirroredStrategy == one device, two localhost workers agree.

The mirrored comparisons cover Pix2Pix, CycleGAN and CUT (whose patch locations must be one draw for the
whole global batch, not one per replica).

The distributed runs happen in subprocesses (tests/distribute_rig.py): logical
CPU devices and MultiWorkerMirroredStrategy must be set up before TensorFlow
initialises. They all start together in one fixture (the 2 CPU cores share
them) and the tests assert on what they wrote.

What is compared: every weight of every network (kernels, biases, batch-norm
moving statistics) after 2 Adam steps on the same global batch of 4, one
device vs 2 replicas, with op determinism on, no dropout and instance norm,
or batch norm with `sync_batch_norm=True` (without it, per-replica batch
statistics made the weights differ by 8e-4: that case is not run). Tolerance:
1e-6 absolute (measured <= 1.5e-7; the weights moved by ~4e-4, by ~0.5 for the
batch-norm scales). Exception: biases of convolutions followed by
instance norm have a zero true gradient (the norm removes per-channel
constants), so Adam steps them by float round-off scaled up to the learning
rate; they are only bounded by 2 * lr * steps (measured ~5e-5).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_translate.models import ImagePool
from tfgan_translate.training import distribute
from tfgan_translate.training.custom_loop import fit_distributed
from tfgan_translate.training.distribute import (
    STRATEGIES,
    check_global_batch,
    is_chief,
    make_strategy,
    needs_custom_loop,
    tf_config_cluster,
)

RIG = Path(__file__).with_name("distribute_rig.py")
REPO = Path(__file__).resolve().parents[1]
TOLERANCE = 1e-6
NORM_CANCELLED_BOUND = 2 * 2e-4 * 2  # 2 * lr * steps
WORKER_TIMEOUT = 120  # seconds for each multi-worker process to finish by itself (~15 s on an idle machine)
RIG_TIMEOUT = 300  # seconds for the mirrored comparisons
TF_ENV_VARS = ("TF_CONFIG", "TPU_NAME", "COLAB_TPU_ADDR", "TPU_ACCELERATOR_TYPE")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in TF_ENV_VARS}
    env.update(TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]), **extra)
    return env


@pytest.fixture(scope="module")
def rigs(tmp_path_factory):
    """Starts the mirrored comparisons and the two workers at once; waits for all; returns their outputs.

    The mirrored runs are niced so that the time-bounded workers get the CPU first.
    """
    out = tmp_path_factory.mktemp("distribute")
    ports = [_free_port(), _free_port()]
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    start = time.monotonic()
    procs, deadlines = {}, {}
    for index in range(2):
        tf_config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        scratch = out / f"tmp{index}"  # the worker's TMPDIR: a non-chief's scratch run folder must be gone
        scratch.mkdir()
        procs[f"worker{index}"] = subprocess.Popen(
            [sys.executable, str(RIG), "worker", str(out / f"worker{index}.npz")],
            env=_env(TF_CONFIG=tf_config, TMPDIR=str(scratch)), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True)
        deadlines[f"worker{index}"] = start + WORKER_TIMEOUT
    for name, groups in (("mirrored_a", "pix2pix,batchnorm,cut"), ("mirrored_b", "cyclegan,train")):
        nice = ["nice", "-n", "10"] if shutil.which("nice") else []
        procs[name] = subprocess.Popen([*nice, sys.executable, str(RIG), "mirrored", str(out / f"{name}.json"), groups],
                                       env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadlines[name] = start + RIG_TIMEOUT
    results = {}
    for name, proc in procs.items():
        try:
            output, _ = proc.communicate(timeout=max(1.0, deadlines[name] - time.monotonic()))
        except subprocess.TimeoutExpired:
            for other in procs.values():
                other.kill()
            output, _ = proc.communicate()
            pytest.fail(f"{name} did not finish in time:\n{output[-3000:]}")
        results[name] = {"rc": proc.returncode, "output": output, "seconds": time.monotonic() - start}
    results["out"] = out
    return results


def _ok(rigs, name):
    result = rigs[name]
    assert result["rc"] == 0, f"{name} failed:\n{result['output'][-3000:]}"


def _mirrored(rigs) -> dict:
    _ok(rigs, "mirrored_a")
    _ok(rigs, "mirrored_b")
    return {**json.loads((rigs["out"] / "mirrored_a.json").read_text()),
            **json.loads((rigs["out"] / "mirrored_b.json").read_text())}


# ------------------------------------------------------------------ MirroredStrategy on 2 logical CPUs
@pytest.mark.parametrize("case", ["pix2pix_fit", "pix2pix_fit_distributed", "cyclegan_fit", "batchnorm_synced",
                                  "pix2pix_train", "cut_fit"])
def test_mirrored_on_two_devices_matches_one_device(rigs, case):
    result = _mirrored(rigs)[case]
    assert result["replicas"] == 2
    assert result["max_abs_change"] > 100 * TOLERANCE  # training moved the weights: the comparison has power
    assert result["max_abs_diff"] < TOLERANCE, result
    assert result["norm_cancelled_bias_diff"] < NORM_CANCELLED_BOUND, result
    assert result["loss_diff"] < 1e-4, result  # the logged losses are global-batch means too


def test_image_pool_runs_under_mirrored_strategy(rigs):
    pool = _mirrored(rigs)["cyclegan_pool"]
    # 2 steps: one device stored 2 x 4 images; under mirroring the pool keeps replica 0's 2 x 2.
    assert pool["count_single_after_2"] == 8 and pool["count_mirrored_after_2"] == 4
    assert pool["count_mirrored_after_5"] == 8 and pool["finite"]  # full, then swapping


# ------------------------------------------------------------------ two MultiWorkerMirroredStrategy workers
def test_two_localhost_workers_agree_and_exit_by_themselves(rigs):
    for name in ("worker0", "worker1"):
        _ok(rigs, name)
        assert rigs[name]["seconds"] < WORKER_TIMEOUT
    w0, w1 = (np.load(rigs["out"] / f"worker{i}.npz") for i in range(2))
    n = len([k for k in w0.files if k.startswith("w")])
    assert n > 0 and int(w0["replicas"]) == 2
    assert bool(w0["chief"]) and not bool(w1["chief"])
    for i in range(n):
        np.testing.assert_array_equal(w0[f"w{i}"], w1[f"w{i}"])
    np.testing.assert_array_equal(w0["g_loss"], w1["g_loss"])
    # ... and they trained what one device trains on the same global batches.
    cancelled = w0["norm_cancelled"]
    for i in range(n):
        bound = NORM_CANCELLED_BOUND * 2 if cancelled[i] else TOLERANCE  # 4 steps here
        np.testing.assert_allclose(w0[f"w{i}"], w0[f"reference_w{i}"], rtol=0, atol=bound)
    assert max(np.abs(w0[f"w{i}"] - w0[f"initial_w{i}"]).max() for i in range(n)) > 100 * TOLERANCE
    np.testing.assert_allclose(w0["g_loss"], w0["reference_g_loss"], rtol=1e-5)


def test_train_on_two_localhost_workers_writes_one_run_folder(rigs):
    """`train()` under MultiWorkerMirroredStrategy: the chief writes the run folder, the other worker nothing."""
    for name in ("worker0", "worker1"):
        _ok(rigs, name)
    w0, w1 = (np.load(rigs["out"] / f"worker{i}.npz") for i in range(2))
    n = len([k for k in w0.files if k.startswith("train_w")])
    assert n > 0
    for i in range(n):
        np.testing.assert_array_equal(w0[f"train_w{i}"], w1[f"train_w{i}"])
    assert np.isfinite(w0["train_g_loss"]).all()
    run = rigs["out"] / "run"
    assert (run / "checkpoints" / "latest.keras").is_file() and (run / "config.json").is_file()
    assert list((run / "samples").glob("*.png"))
    assert not list((rigs["out"] / "tmp1").iterdir()), "the non-chief worker left its scratch folder behind"


# ------------------------------------------------------------------ make_strategy
@pytest.fixture
def clean_env(monkeypatch):
    for name in TF_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_unknown_strategy_is_explained():
    with pytest.raises(ValueError) as error:
        make_strategy("horovod")
    assert str(error.value) == (f"Invalid value for argument `strategy`. Received: strategy='horovod'. "
                                f"Expected one of {list(STRATEGIES)}.")


def test_auto_and_none_give_the_default_strategy_on_this_cpu_machine(clean_env, caplog):
    if tf.config.list_physical_devices("GPU") or any(Path("/dev").glob("accel[0-9]*")):
        pytest.skip("this machine has accelerators")
    with caplog.at_level("INFO", logger="tfgan_translate"):
        strategy = make_strategy("auto")
    assert strategy is tf.distribute.get_strategy() and strategy.num_replicas_in_sync == 1
    assert "strategy auto -> none" in caplog.text
    assert make_strategy("none") is tf.distribute.get_strategy()
    assert isinstance(make_strategy("none", devices=["/cpu:0"]), tf.distribute.OneDeviceStrategy)
    mirrored = make_strategy("mirrored", devices=["/cpu:0"])
    assert isinstance(mirrored, tf.distribute.MirroredStrategy) and mirrored.num_replicas_in_sync == 1
    assert not needs_custom_loop(mirrored) and is_chief(mirrored)


def test_auto_reads_tpu_and_cluster_hints_without_connecting(clean_env):
    clean_env.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]},
                                              "task": {"type": "worker", "index": 0}}))
    assert distribute._auto_choice(None)[0] == "multiworker"
    clean_env.setenv("TPU_NAME", "my-tpu")
    assert distribute._auto_choice(None) == ("tpu", "TPU found (my-tpu)")
    assert distribute._auto_choice(["/gpu:0", "/gpu:1"])[0] == "mirrored"


def test_multiworker_needs_a_valid_tf_config(clean_env):
    with pytest.raises(ValueError, match="needs the TF_CONFIG environment variable.*Expected a JSON object"):
        make_strategy("multiworker")
    bad = {
        "{not json": "not JSON",
        '{"task": {"type": "worker", "index": 0}}': "No such job in cluster: 'worker'",
        '{"cluster": {"worker": ["127.0.0.1:1"]}}': 'no "task"',
        '{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "worker", "index": 1}}': "No task with index 1",
        '{"cluster": {"worker": ["nohost"]}, "task": {"type": "worker", "index": 0}}': "host:port",
        '{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "chief", "index": 0}}': "No such job in cluster",
    }
    for text, problem in bad.items():
        clean_env.setenv("TF_CONFIG", text)
        with pytest.raises(ValueError, match="Invalid TF_CONFIG") as error:
            make_strategy("multiworker")
        assert problem in str(error.value) and "TF_CONFIG=" in str(error.value)
    clean_env.setenv("TF_CONFIG", '{"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}, '
                                  '"task": {"type": "worker", "index": 1}}')
    resolver = tf_config_cluster()
    assert (resolver.task_type, resolver.task_id, resolver.cluster_spec().num_tasks("worker")) == ("worker", 1, 2)


def test_tpu_without_a_tpu_and_misplaced_devices_are_explained(clean_env):
    if any(Path("/dev").glob("accel[0-9]*")):
        pytest.skip("this machine has a TPU")
    with pytest.raises(ValueError, match="no TPU was found: set TPU_NAME"):
        make_strategy("tpu")
    with pytest.raises(ValueError, match="leave `devices` unset"):
        make_strategy("multiworker", devices=["/cpu:0"])
    with pytest.raises(ValueError, match="Expected one device"):
        make_strategy("none", devices=["/cpu:0", "/cpu:1"])


def test_global_batch_check():
    assert check_global_batch(4, tf.distribute.get_strategy()) == 4

    class TwoReplicas:
        num_replicas_in_sync = 2

    assert check_global_batch(6, TwoReplicas()) == 3
    with pytest.raises(ValueError, match="batch_size=5 with 2 replicas.*multiple of 2"):
        check_global_batch(5, TwoReplicas())


def test_sync_batch_norm_in_builders():
    from tfgan_translate.networks import build_discriminator, build_generator

    def flags(net):
        return [layer.synchronized for layer in net.layers if isinstance(layer, keras.layers.BatchNormalization)]

    g = build_generator("unet_32", ngf=4, sync_batch_norm=True)
    d = build_discriminator("n_layers", n_layers_D=2, ndf=4, sync_batch_norm=True)
    r = build_generator("resnet_1blocks", ngf=4, norm="batch", sync_batch_norm=True)
    assert all(flags(g)) and all(flags(d)) and all(flags(r)) and flags(g) and flags(r)
    assert keras.models.clone_model(g).get_layer("down2_norm").synchronized  # kept in the config
    assert not any(flags(build_generator("unet_32", ngf=4)))


# ------------------------------------------------------------------ fit_distributed on one device
def test_fit_distributed_drives_callbacks_and_validation_like_fit(tmp_path):
    """(Its numbers are checked against `fit` under MirroredStrategy and on two workers, above.)"""
    from conftest import random_pairs, tiny_pix2pix

    x, y = random_pairs(4)
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(2).repeat()
    model = tiny_pix2pix(norm="instance", dropout=0.0)

    class Record(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.events = []

        def on_epoch_begin(self, epoch, logs=None):
            self.events.append(("begin", epoch))

        def on_train_batch_end(self, batch, logs=None):
            self.events.append(("batch", batch, sorted(logs)))

        def on_epoch_end(self, epoch, logs=None):
            self.events.append(("end", epoch, sorted(logs)))
            if epoch == 2:
                self.model.stop_training = True

    record = Record()
    val = tf.data.Dataset.from_tensor_slices((x, y)).batch(2)
    board = keras.callbacks.TensorBoard(log_dir=str(tmp_path / "logs"), update_freq="epoch", write_graph=False)
    history = fit_distributed(model, data, epochs=5, initial_epoch=1, steps_per_epoch=2, validation_data=val,
                              callbacks=[record, board], verbose=1)
    names = sorted(model._trackers)
    assert sorted(history) == sorted(names + ["val_l1", "val_psnr", "val_ssim"])
    assert len(history["g_loss"]) == 2 and all(np.isfinite(v).all() for v in history.values())
    assert [e[:2] for e in record.events] == [("begin", 1), ("batch", 0), ("batch", 1), ("end", 1),
                                              ("begin", 2), ("batch", 0), ("batch", 1), ("end", 2)]
    assert record.events[1][2] == names and record.events[3][2] == sorted(history)
    assert record.model is model and int(model.g_optimizer.iterations) == 4
    assert list((tmp_path / "logs" / "train").glob("events.out.tfevents.*"))
    assert list((tmp_path / "logs" / "validation").glob("events.out.tfevents.*"))


def test_fit_distributed_refuses_models_outside_the_strategy_scope():
    from conftest import tiny_pix2pix

    data = tf.data.Dataset.from_tensor_slices((np.zeros((2, 32, 32, 3), np.float32),) * 2).batch(2).repeat()
    with pytest.raises(ValueError, match="needs a compiled model"):
        fit_distributed(tiny_pix2pix(compile=False), data, epochs=1, steps_per_epoch=1)
    mirrored = tf.distribute.MirroredStrategy(["/cpu:0"])
    with pytest.raises(ValueError, match="inside `with strategy.scope\\(\\):`"):
        fit_distributed(tiny_pix2pix(), data, epochs=1, steps_per_epoch=1, strategy=mirrored)
    with pytest.raises(ValueError, match="steps_per_epoch=0"):
        fit_distributed(tiny_pix2pix(), data, epochs=1, steps_per_epoch=0)


# ------------------------------------------------------------------ image pool (rewritten for tf.distribute)
def test_pool_within_one_batch_returns_only_pushed_images_and_keeps_no_duplicates():
    pool = ImagePool(4, (1, 1, 1))
    query = tf.function(pool.__call__)
    pushed = set()
    for start in range(0, 400, 8):  # batches of 8 cross the fill boundary, then swap within batches
        values = list(range(start, start + 8))
        pushed.update(values)
        out = query(tf.constant(np.array(values, np.float32).reshape(-1, 1, 1, 1))).numpy().ravel()
        assert set(out.tolist()) <= pushed
        stored = pool.images.numpy().ravel().tolist()
        assert len(set(stored)) == 4 and set(stored) <= pushed
        # an image either comes back itself or was stored before (earlier batch, or earlier in this one)
        assert all(o == v or o < v for o, v in zip(out, values))
    assert int(pool.count.numpy()) == 4
