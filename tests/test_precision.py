"""Precision policies and XLA: choice per hardware, float32 outputs and losses, loss scaling for float16.

Train steps run eagerly here (no tracing: cheap on 2 cores). Losses of the
first step under mixed precision are compared with float32 on the same
weights and batch: relative tolerance 1e-2 for bfloat16 (8-bit mantissa;
measured <= 1.1e-3), 2e-3 for float16 (measured <= 1.4e-4), plus 1e-3 absolute.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import random_pairs

from tfgan_translate import CycleGAN, PatchGANDiscriminator, Pix2Pix, ResNetGenerator, UNetGenerator
from tfgan_translate.training import precision as probe
from tfgan_translate.training.precision import (
    PRECISIONS,
    precision_scope,
    resolve_jit,
    resolve_precision,
    set_precision,
    wrap_optimizer,
)

MIXED = ("mixed_bfloat16", "mixed_float16")
RTOL = {"mixed_bfloat16": 1e-2, "mixed_float16": 2e-3}


@pytest.fixture(autouse=True)
def float32_policy():
    """The global policy leaks between tests: start and end every test in float32."""
    keras.mixed_precision.set_global_policy("float32")
    yield
    keras.mixed_precision.set_global_policy("float32")
    assert keras.mixed_precision.global_policy().name == "float32"


# ------------------------------------------------------------------ choosing the policy
def test_auto_matches_this_machines_cpu_flags(caplog):
    if tf.config.list_physical_devices("GPU"):
        pytest.skip("a GPU decides instead of the CPU flags")
    flags = set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                flags.update(line.split(":", 1)[1].split())
    fast = flags & {"avx512_bf16", "amx_bf16"} and probe._cpu_bfloat16_speedup() >= probe.CPU_SPEEDUP_NEEDED
    expected = "mixed_bfloat16" if fast else "float32"
    assert resolve_precision("auto")[0] == expected
    with caplog.at_level("INFO", logger="tfgan_translate"):
        assert set_precision("auto") == expected
    assert keras.mixed_precision.global_policy().name == expected
    assert f"precision auto -> {expected}" in caplog.text and ("CPU has" in caplog.text or "lacks" in caplog.text)


def test_auto_follows_cpu_flags_and_gpu_capability(tmp_path, monkeypatch):
    cpuinfo = tmp_path / "cpuinfo"
    monkeypatch.setattr(probe, "CPUINFO", cpuinfo)
    monkeypatch.setattr(probe, "_gpu_capabilities", list)
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f\n")
    assert resolve_precision("auto") == ("float32", "no GPU and the CPU lacks avx512_bf16 / amx_bf16")
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu avx512f avx512_bf16 amx_tile amx_bf16\n")
    monkeypatch.setattr(probe, "_cpu_bfloat16_speedup", lambda: 1.6)  # the flags and a fast probe
    assert resolve_precision("auto") == (
        "mixed_bfloat16", "CPU has amx_bf16, avx512_bf16; a probe convolution ran 1.60x as fast in bfloat16")
    monkeypatch.setattr(probe, "_cpu_bfloat16_speedup", lambda: 0.5)  # the flags, but slow in practice
    assert resolve_precision("auto")[0] == "float32"
    monkeypatch.setattr(probe, "_gpu_capabilities", lambda: [(7, 5)])  # T4: the GPU decides, not the CPU
    assert resolve_precision("auto")[0] == "float32"
    monkeypatch.setattr(probe, "_gpu_capabilities", lambda: [(8, 0), (9, 0)])
    assert resolve_precision("auto")[0] == "mixed_bfloat16"
    monkeypatch.setattr(probe, "CPUINFO", tmp_path / "missing")
    monkeypatch.setattr(probe, "_gpu_capabilities", list)
    assert resolve_precision("auto")[0] == "float32"


def test_explicit_names_scope_and_errors():
    for name in PRECISIONS[1:]:
        assert resolve_precision(name) == (name, "requested")
    with precision_scope("mixed_float16") as name:
        assert name == "mixed_float16" and keras.mixed_precision.global_policy().name == "mixed_float16"
    assert keras.mixed_precision.global_policy().name == "float32"
    with pytest.raises(ValueError) as error:
        set_precision("float16")
    assert str(error.value) == ("Invalid value for argument `precision`. Received: precision='float16'. "
                                f"Expected one of {list(PRECISIONS)}.")


def test_wrap_optimizer_adds_loss_scaling_only_for_float16():
    adam = keras.optimizers.Adam(1e-3)
    assert wrap_optimizer(adam, "float32") is adam and wrap_optimizer(adam, "mixed_bfloat16") is adam
    wrapped = wrap_optimizer(adam, "mixed_float16")
    assert isinstance(wrapped, keras.optimizers.LossScaleOptimizer) and wrapped.inner_optimizer is adam
    assert wrap_optimizer(wrapped, "mixed_float16") is wrapped
    with precision_scope("mixed_float16"):
        assert isinstance(wrap_optimizer(keras.optimizers.Adam()), keras.optimizers.LossScaleOptimizer)
    with pytest.raises(ValueError, match="precision='fp16'"):
        wrap_optimizer(adam, "fp16")


def test_jit_is_off_on_cpu_unless_asked():
    assert resolve_jit(True) is True and resolve_jit(False) is False
    assert resolve_jit("auto") is bool(tf.config.list_physical_devices("GPU"))
    with pytest.raises(ValueError, match="Received: jit='yes'. Expected True, False or 'auto'"):
        resolve_jit("yes")


# ------------------------------------------------------------------ the models under mixed precision
def _pix2pix():
    g = UNetGenerator(depth=5, ngf=8, norm="batch", dropout=0.0)
    d = PatchGANDiscriminator(ndf=8, n_layers=2, norm="batch")
    return Pix2Pix(g, d), g, d, "down2_conv"


def _cyclegan():
    nets = [ResNetGenerator(n_blocks=1, ngf=8, name=n) for n in ("g", "f")]
    nets += [PatchGANDiscriminator(condition_channels=0, ndf=8, n_layers=2, norm="instance", name=n)
             for n in ("da", "db")]
    return CycleGAN(*nets, pool_size=0, image_size=32), nets[0], nets[3], "down1_conv"


BUILDERS = {"pix2pix": _pix2pix, "cyclegan": _cyclegan}


def _build(kind, policy, weights=None):
    """A compiled model built under `policy` (float32 weights copied in), and its update-loss dtypes."""
    with precision_scope(policy):
        keras.utils.set_random_seed(0)
        model, g, d, conv = BUILDERS[kind]()
        model.compile(g_optimizer=wrap_optimizer(keras.optimizers.Adam(2e-4, beta_1=0.5), policy),
                      d_optimizer=wrap_optimizer(keras.optimizers.Adam(2e-4, beta_1=0.5), policy))
    if weights is not None:
        model.set_weights(weights)
    dtypes = []
    update = model._update

    def recording_update(tape, loss, variables, optimizer):
        dtypes.append(loss.dtype)
        return update(tape, loss, variables, optimizer)

    model._update = recording_update
    return model, g, d, conv, dtypes


@pytest.mark.parametrize("kind", ["pix2pix", "cyclegan"])
def test_mixed_precision_keeps_outputs_and_losses_float32_and_close_to_float32(kind):
    x, y = random_pairs(2)
    reference, *_ = _build(kind, "float32")
    weights = reference.get_weights()
    expected = {k: float(v) for k, v in reference.train_step((x, y)).items()}
    for policy in MIXED:
        model, g, d, conv, dtypes = _build(kind, policy, weights)
        compute = "bfloat16" if policy == "mixed_bfloat16" else "float16"
        assert g.get_layer(conv).compute_dtype == compute and g.get_layer(conv).kernel.dtype == "float32"
        assert g(x).dtype == "float32"  # the generators end in a float32 tanh
        d_in = tf.concat([x, y], axis=-1) if kind == "pix2pix" else y
        assert d(d_in).dtype == "float32"  # ... the discriminators in float32 logits
        before = [w.numpy().copy() for w in g.trainable_weights]
        for step in range(3):
            logs = model.train_step((x, y))
            assert all(v.dtype == tf.float32 for v in logs.values())
            assert all(np.isfinite(float(v)) for v in logs.values()), (policy, step, logs)
            if step == 0:
                got = {k: float(v) for k, v in logs.items()}
                for name, value in expected.items():
                    assert got[name] == pytest.approx(value, rel=RTOL[policy], abs=1e-3), (policy, name, got, expected)
        assert set(dtypes) == {tf.float32}  # every loss given to the optimizers
        assert any(not np.array_equal(a, w.numpy()) for a, w in zip(before, g.trainable_weights))
        if policy == "mixed_float16":
            assert isinstance(model.g_optimizer, keras.optimizers.LossScaleOptimizer)
            assert np.isfinite(float(model.g_optimizer.dynamic_scale.numpy()))
        keras.mixed_precision.set_global_policy("float32")


# ------------------------------------------------------------------ train(): config.precision and config.jit
def test_train_builds_in_the_configured_precision_and_resume_keeps_it(synth_dir, tmp_path, caplog):
    """mixed_float16 through `train()`: loss scaling, float32 metrics, the global policy restored,
    and a resumed run keeps the checkpoint's precision and counts the steps the scaler skipped."""
    import logging

    from tfgan_translate.config import Pix2PixConfig
    from tfgan_translate.training.run import train

    config = Pix2PixConfig(data=str(synth_dir), image_size=32, load_size=36, netG="unet_32", ngf=4, ndf=4,
                           n_layers_D=1, epochs=1, batch_size=2, steps_per_epoch=3, sample_count=2,
                           precision="mixed_float16")
    with caplog.at_level(logging.INFO, logger="tfgan_translate"):
        result = train(config, tmp_path / "run", verbose=0)
    assert "precision mixed_float16 -> mixed_float16 (requested)" in caplog.text
    assert "Training pix2pix in mixed_float16 on 1 replica(s)." in caplog.text
    assert keras.mixed_precision.global_policy().name == "float32"  # restored after building
    model = result.model
    assert isinstance(model.g_optimizer, keras.optimizers.LossScaleOptimizer)
    assert model.generator.get_layer("down2_conv").compute_dtype == "float16"
    assert all(np.isfinite(v) for v in result.metrics.values())
    # The first steps' overflowing float16 gradients were skipped by the optimizer, not by the run.
    assert int(model.trained_steps.numpy()) == 3 >= int(model.g_optimizer.iterations.numpy())

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="tfgan_translate"):
        resumed = train(config.replace(epochs=2, precision="float32"), tmp_path / "run", resume=True, verbose=0)
    assert "a resumed run keeps its checkpoint's precision (mixed_float16)" in caplog.text
    assert resumed.model.generator.get_layer("down2_conv").compute_dtype == "float16"
    assert int(resumed.model.trained_steps.numpy()) == 6
