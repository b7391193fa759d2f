"""Subprocess rig for tests/test_distribute.py (TF must be configured before it initialises).

    python tests/distribute_rig.py mirrored OUT.json [pix2pix,cyclegan,batchnorm]
        Splits the CPU into 2 logical devices and compares, for tiny models and
        the same global batch, training on one device with training under
        MirroredStrategy over both (`fit`, and `fit_distributed` for pix2pix).
        Writes {case: {max_abs_diff, norm_cancelled_bias_diff, max_abs_change,
        loss_diff, ...}} and the CycleGAN pool's counts as JSON.

        The "train" group does the same through `training.run.train` (the
        command line's path), with batch norm synchronised by the config.

    TF_CONFIG=... python tests/distribute_rig.py worker OUT.npz
        One MultiWorkerMirroredStrategy worker: trains a tiny Pix2Pix with
        `fit_distributed` and writes its final weights (worker 0 also trains
        the same model on one device, `reference_*` arrays); then runs
        `train()` into OUT's folder/run (only the chief writes there) and
        writes those weights too (`train_*` arrays).
"""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf

# No grappler graph rewrites: ~20% less time tracing, the same for both sides of each comparison.
tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})

STEPS, GLOBAL_BATCH, SIZE, POOL = 2, 4, 32, 8


def data(n=8, seed=0):
    rng = np.random.default_rng(seed)
    a = np.tanh(rng.normal(size=(n, SIZE, SIZE, 3))).astype(np.float32)
    b = np.tanh(np.roll(a[..., ::-1], 1, axis=1) * 1.5).astype(np.float32)
    return a, b


def dataset(batch=GLOBAL_BATCH):
    return tf.data.Dataset.from_tensor_slices(data()).batch(batch, drop_remainder=True).repeat()


def make_model(kind, norm="instance", sync=False):
    """A compiled tiny Pix2Pix, CycleGAN or CUT (ngf = ndf = 4, no dropout: per-replica noise would differ).

    The CUT has the identity term and blur down/up-sampling; its patch locations are drawn from the step, so one
    device and each replica gather the same ones.
    """
    import keras

    from tfgan_translate import CycleGAN, PatchGANDiscriminator, Pix2Pix, ResNetGenerator, UNetGenerator
    from tfgan_translate.models.cut import CUT

    keras.utils.set_random_seed(0)
    if kind == "cut":
        g = ResNetGenerator(n_blocks=1, ngf=4, norm=norm, downsample="blur", upsample="blur", name="g")
        d = PatchGANDiscriminator(condition_channels=0, ndf=4, n_layers=1, norm=norm, downsample="blur", name="d")
        model = CUT(g, d, nce_layers=(0, 4, 8, 12), num_patches=16, nce_idt=True)
    elif kind == "pix2pix":
        g = UNetGenerator(depth=3, ngf=4, norm=norm, dropout=0.0, sync_batch_norm=sync)
        d = PatchGANDiscriminator(ndf=4, n_layers=1, norm=norm, sync_batch_norm=sync)
        model = Pix2Pix(g, d)
    else:
        nets = [ResNetGenerator(n_blocks=1, ngf=4, norm=norm, name=n) for n in ("g", "f")]
        nets += [PatchGANDiscriminator(condition_channels=0, ndf=4, n_layers=1, norm=norm, name=n)
                 for n in ("da", "db")]
        model = CycleGAN(*nets, pool_size=POOL, image_size=SIZE)
    model.compile(g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                  d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
    return model


def networks(model):
    return model.generators + model.discriminators


def get_weights(model):
    return [w for net in networks(model) for w in net.get_weights()]


def set_weights(model, weights):
    weights = list(weights)
    for net in networks(model):
        n = len(net.weights)
        net.set_weights(weights[:n])
        weights = weights[n:]


def norm_cancelled(model):
    """Per weight: whether it is the bias of a conv followed by instance norm.

    Instance norm subtracts each channel's mean, so such a bias (also through a
    crop, as after the ResNet's transposed convolutions) has a zero true
    gradient; its computed gradient is float round-off, which Adam (g / sqrt(v))
    turns into steps of up to the learning rate in either direction. Those
    weights are compared with a bound of 2 * lr * steps instead of the tolerance.
    """
    import keras

    from tfgan_translate.networks import InstanceNormalization

    def feeds_instance_norm(layer):  # directly or through a crop (which keeps a per-channel constant)
        return any(isinstance(node.operation, InstanceNormalization)
                   or (isinstance(node.operation, keras.layers.Cropping2D) and feeds_instance_norm(node.operation))
                   for node in layer._outbound_nodes)

    cancelled = set()
    for net in networks(model):
        for layer in net.layers:
            if getattr(layer, "bias", None) is not None and feeds_instance_norm(layer):
                cancelled.add(id(layer.bias))
    return [id(w) in cancelled for net in networks(model) for w in net.weights]


def compare(reference, other, initial, skip):
    """(max |reference - other| over the compared weights, over the skipped ones, max |reference - initial|)."""
    diffs = [float(np.max(np.abs(a - b))) for a, b in zip(reference, other)]
    kept = [d for d, s in zip(diffs, skip) if not s]
    skipped = [d for d, s in zip(diffs, skip) if s]
    change = max(float(np.max(np.abs(a - b))) for a, b in zip(reference, initial))
    return max(kept), max(skipped, default=0.0), change


def train_config(data_dir):
    """A tiny pix2pix run through `train()`: batch norm synced across replicas, no dropout, float32."""
    from tfgan_translate.config import Pix2PixConfig

    return Pix2PixConfig(data=str(data_dir), image_size=SIZE, load_size=SIZE + 4, netG=f"unet_{SIZE}", ngf=4, ndf=4,
                         n_layers_D=1, norm="batch", sync_batch_norm=True, dropout=0.0, batch_size=GLOBAL_BATCH,
                         epochs=1, steps_per_epoch=STEPS, sample_count=2, precision="float32", strategy="none")


def synthetic_data(folder):
    from tfgan_translate.data import write_synthetic_dataset

    return write_synthetic_dataset(folder, n_train=8, n_test=4, size=SIZE, seed=0)


def run_mirrored(out_path, groups="pix2pix,cyclegan,batchnorm"):
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    tf.config.experimental.enable_op_determinism()
    from tfgan_translate.training.custom_loop import fit_distributed
    from tfgan_translate.training.distribute import make_strategy

    strategy = make_strategy("mirrored", devices=["/cpu:0", "/cpu:1"])
    results = {}

    def record(case, reference, reference_logs, initial, model, logs, start):
        diff, skipped_diff, change = compare(get_weights(reference), get_weights(model), initial,
                                             norm_cancelled(reference))
        results[case] = {"max_abs_diff": diff, "norm_cancelled_bias_diff": skipped_diff, "max_abs_change": change,
                         "loss_diff": max(abs(reference_logs[k][-1] - logs[k][-1]) for k in reference_logs),
                         "replicas": model.distribute_strategy.num_replicas_in_sync,
                         "seconds": round(time.time() - start, 1)}
        print(case, results[case], flush=True)

    # One single-device reference per model, trained on the same global batches.
    for group in groups.split(","):
        start = time.time()
        if group == "train":
            import keras

            from tfgan_translate.models.pix2pix import pix2pix_from_config
            from tfgan_translate.training.run import train

            folder = os.path.dirname(os.path.abspath(out_path))
            config = train_config(synthetic_data(os.path.join(folder, "synth_mirrored")))
            keras.utils.set_random_seed(config.seed)  # what train() builds first
            initial = get_weights(pix2pix_from_config(config))
            reference = train(config, os.path.join(folder, "train_one"), verbose=0)
            result = train(config, os.path.join(folder, "train_two"), verbose=0, strategy=strategy)
            record("pix2pix_train", reference.model, reference.history, initial, result.model, result.history, start)
            results["pix2pix_train"]["checkpoint"] = os.path.isfile(
                os.path.join(folder, "train_two", "checkpoints", "latest.keras"))
            continue
        options = {"pix2pix": {"kind": "pix2pix"}, "cyclegan": {"kind": "cyclegan"}, "cut": {"kind": "cut"},
                   "batchnorm": {"kind": "pix2pix", "norm": "batch"}}[group]
        reference = make_model(**options)
        initial = get_weights(reference)
        reference_logs = reference.fit(dataset(), steps_per_epoch=STEPS, epochs=1, verbose=0).history
        variants = {"pix2pix": {"pix2pix_fit": {}, "pix2pix_fit_distributed": {"loop": "custom"}},
                    "cyclegan": {"cyclegan_fit": {}}, "cut": {"cut_fit": {}},
                    "batchnorm": {"batchnorm_synced": {"sync": True}}}[group]
        for case, variant in variants.items():
            variant = dict(variant)
            loop = variant.pop("loop", "fit")
            with strategy.scope():
                model = make_model(**options, **variant)
            set_weights(model, initial)
            if loop == "fit":
                logs = model.fit(dataset(), steps_per_epoch=STEPS, epochs=1, verbose=0).history
            else:
                logs = fit_distributed(model, dataset(), epochs=1, steps_per_epoch=STEPS, strategy=strategy, verbose=0)
            record(case, reference, reference_logs, initial, model, logs, start)
            start = time.time()
        if group == "cyclegan":
            # Go on until the pools are full and swap images (replica 0 stores 2 images a step).
            counts = [int(reference.pool_a.count.numpy()), int(model.pool_a.count.numpy())]
            more = model.fit(dataset(), steps_per_epoch=3, epochs=1, verbose=0).history
            results["cyclegan_pool"] = {
                "count_single_after_2": counts[0], "count_mirrored_after_2": counts[1],
                "count_mirrored_after_5": int(model.pool_a.count.numpy()),
                "finite": bool(all(np.isfinite(v[-1]) for v in more.values())),
            }
            print(results["cyclegan_pool"], flush=True)
    with open(out_path, "w") as f:
        json.dump(results, f, indent=2)


def run_worker(out_path):
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.experimental.enable_op_determinism()
    from tfgan_translate.training.custom_loop import fit_distributed
    from tfgan_translate.training.distribute import is_chief, make_strategy

    strategy = make_strategy("multiworker")  # from TF_CONFIG; before any other TF work
    with strategy.scope():
        model = make_model("pix2pix")  # initial values are broadcast from worker 0
    initial = get_weights(model)
    arrays = {}
    if is_chief(strategy):
        # The same training on one device, for the test to compare with. Done first, so that
        # both workers end together (worker 1 waits at the first all-reduce meanwhile).
        reference = make_model("pix2pix")
        set_weights(reference, initial)
        reference_history = reference.fit(dataset(), steps_per_epoch=2, epochs=2, verbose=0).history
        arrays["reference_g_loss"] = np.array(reference_history["g_loss"])
        arrays.update({f"reference_w{i}": w for i, w in enumerate(get_weights(reference))})
        arrays.update({f"initial_w{i}": w for i, w in enumerate(initial)})
    history = fit_distributed(model, dataset(), epochs=2, steps_per_epoch=2, strategy=strategy, verbose=0)
    arrays.update({f"w{i}": w for i, w in enumerate(get_weights(model))})
    arrays["g_loss"] = np.array(history["g_loss"])
    arrays["replicas"] = np.array(strategy.num_replicas_in_sync)
    arrays["chief"] = np.array(is_chief(strategy))
    arrays["norm_cancelled"] = np.array(norm_cancelled(model))

    # The same cluster through train(): one run folder, written by the chief only.
    from tfgan_translate.training.run import train

    index = strategy.cluster_resolver.task_id
    folder = os.path.dirname(os.path.abspath(out_path))
    result = train(train_config(synthetic_data(os.path.join(folder, f"synth_worker{index}"))),
                   os.path.join(folder, "run"), verbose=0, strategy=strategy)
    arrays.update({f"train_w{i}": w for i, w in enumerate(get_weights(result.model))})
    arrays["train_g_loss"] = np.array(result.history["g_loss"])
    np.savez(out_path, **arrays)


if __name__ == "__main__":
    mode, out, *rest = sys.argv[1:]
    {"mirrored": run_mirrored, "worker": run_worker}[mode](out, *rest)
