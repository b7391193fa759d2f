"""FusedAdam: torch.optim.Adam's update, fused and plain, through the public Keras optimizer API."""

from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_translate.accelerate import FusedAdam

PACKAGE = Path(__file__).resolve().parents[1] / "tfgan_translate"


def torch_adam(w, grads, learning_rates, beta_1, beta_2, eps):
    """NumPy transcription of `torch.optim.Adam` (torch/optim/adam.py, `_single_tensor_adam`, amsgrad off)."""
    w, m, v = np.array(w, np.float64), np.zeros_like(w, np.float64), np.zeros_like(w, np.float64)
    for step, (grad, lr) in enumerate(zip(grads, learning_rates), start=1):
        m += (grad - m) * (1 - beta_1)  # exp_avg.lerp_(grad, 1 - beta1)
        v = v * beta_2 + grad * grad * (1 - beta_2)  # exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2)
        step_size = lr / (1 - beta_1**step)
        denom = np.sqrt(v) / np.sqrt(1 - beta_2**step) + eps
        w -= step_size * m / denom  # param.addcdiv_(exp_avg, denom, value=-step_size)
    return w, m, v


@pytest.mark.parametrize("fused", [True, False])
def test_fused_adam_is_torch_adam_over_steps_with_a_schedule(fused):
    rng = np.random.default_rng(0)
    # the second variable's gradients (1e-7) are of the order of epsilon: the form of epsilon decides its steps
    scales = [1.0, 1e-7]
    start = [rng.normal(size=shape).astype("float32") for shape in [(3, 4), (7,)]]
    grads = [[(rng.normal(size=s.shape) * scale).astype("float32") for s, scale in zip(start, scales)]
             for _ in range(20)]
    schedule = keras.optimizers.schedules.ExponentialDecay(1e-2, decay_steps=3, decay_rate=0.5)
    variables = [keras.Variable(s) for s in start]
    adam = FusedAdam(schedule, beta_1=0.5, beta_2=0.999, fused=fused)
    step = tf.function(lambda g: adam.apply(g, variables))
    for g in grads:
        step([tf.constant(x) for x in g])
    learning_rates = [float(schedule(t)) for t in range(20)]
    for i, variable in enumerate(variables):
        w, m, v = torch_adam(start[i], [g[i] for g in grads], learning_rates, 0.5, 0.999, 1e-8)
        assert np.abs(w - start[i]).max() > 1e-2  # twenty real steps, the tiny gradients' too
        np.testing.assert_allclose(variable.numpy(), w, rtol=1e-6, atol=1e-6 * np.abs(w).max())
        np.testing.assert_allclose(adam.momentums[i].numpy(), m, rtol=1e-6, atol=1e-6 * np.abs(m).max())
        # the fused kernel computes 1 - beta_2 from float32(0.999): 1.3e-5 off 0.001, as v is then
        rtol = 2e-5 if fused else 1e-6
        np.testing.assert_allclose(adam.velocities[i].numpy(), v, rtol=rtol, atol=rtol * np.abs(v).max())


def test_keras_adam_is_not_torch_adam_for_gradients_near_epsilon():
    """Why the package has its own Adam: Keras adds epsilon before the bias correction."""
    w, keras_adam = keras.Variable(np.ones(4, "float32")), keras.optimizers.Adam(1e-2, epsilon=1e-8)
    grad = tf.constant(np.full(4, 1e-8, "float32"))
    keras_adam.apply([grad], [w])
    expected, _, _ = torch_adam(np.ones(4), [grad.numpy()], [1e-2], 0.9, 0.999, 1e-8)
    assert abs((1 - float(w.numpy()[0])) / (1 - expected[0]) - 1) > 0.5


def test_fused_adam_saves_and_restores_without_its_speed_up(tmp_path):
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    model.compile(optimizer=FusedAdam(1e-3, beta_1=0.5, fused=False), loss="mse")
    x, y = np.ones((4, 3), "float32"), np.zeros((4, 2), "float32")
    model.fit(x, y, epochs=2, verbose=0)
    config = model.optimizer.get_config()
    assert set(config) >= {"beta_1", "beta_2", "epsilon"} and "fused" not in config
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    assert isinstance(restored.optimizer, FusedAdam) and restored.optimizer.beta_1 == 0.5
    assert restored.optimizer.epsilon == 1e-8 and restored.optimizer.fused  # a speed-up: on unless switched off
    for a, b in zip(model.optimizer.variables, restored.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert int(restored.optimizer.iterations.numpy()) == 2


def test_the_package_reads_no_private_keras_attribute():
    names = ("_momentums", "_velocities", "_get_variable_index", "_flatten_layers")
    found = [(path.name, name) for path in PACKAGE.rglob("*.py") for name in names if name in path.read_text()]
    assert not found


def test_setup_cfg_does_not_cap_keras_below_4():
    line = next(line for line in (PACKAGE.parent / "setup.cfg").read_text().splitlines()
                if line.strip().startswith("keras"))
    assert line.split("#")[0].strip() == "keras>=3.15"
