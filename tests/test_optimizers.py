"""FusedAdam: Keras' Adam updates through TensorFlow's fused kernel."""

import keras
import numpy as np
import tensorflow as tf

from tfgan_translate.training.optimizers import FusedAdam


def test_fused_adam_follows_keras_adam_with_a_schedule():
    rng = np.random.default_rng(0)
    start = [rng.normal(size=shape).astype("float32") for shape in [(3, 4), (7,)]]
    reference, fused = [keras.Variable(v) for v in start], [keras.Variable(v) for v in start]
    schedule = keras.optimizers.schedules.ExponentialDecay(1e-2, decay_steps=3, decay_rate=0.5)
    keras_adam, fused_adam = keras.optimizers.Adam(schedule, beta_1=0.5), FusedAdam(schedule, beta_1=0.5)
    keras_adam.build(reference)
    fused_adam.build(fused)
    keras_step = tf.function(lambda grads: keras_adam.apply(grads, reference))
    fused_step = tf.function(lambda grads: fused_adam.apply(grads, fused))
    for _ in range(10):
        grads = [tf.constant(rng.normal(size=v.shape).astype("float32")) for v in start]
        keras_step(grads)
        fused_step(grads)
    moved = max(np.abs(v.numpy() - s).max() for v, s in zip(fused, start))
    assert moved > 1e-2  # ten real steps
    for a, b in zip(reference + keras_adam.variables, fused + fused_adam.variables):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-5, atol=1e-6)


def test_fused_adam_saves_and_restores_like_adam(tmp_path):
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    model.compile(optimizer=FusedAdam(1e-3, beta_1=0.5), loss="mse")
    x, y = np.ones((4, 3), "float32"), np.zeros((4, 2), "float32")
    model.fit(x, y, epochs=2, verbose=0)
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    assert isinstance(restored.optimizer, FusedAdam) and restored.optimizer.beta_1 == 0.5
    for a, b in zip(model.optimizer.variables, restored.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert int(restored.optimizer.iterations.numpy()) == 2


def test_keras_still_has_the_private_adam_attributes_fused_adam_reads():
    """Fails loudly, naming the attribute, when a Keras upgrade removes one (setup.cfg pins the minor version)."""
    from tfgan_translate.training.optimizers import PRIVATE_KERAS_ATTRIBUTES, missing_private_attributes

    adam = keras.optimizers.Adam()
    adam.build([keras.Variable(np.zeros(3, "float32"))])
    missing = missing_private_attributes(adam)
    assert not missing, (f"keras {keras.__version__} has no keras.optimizers.Adam attribute(s) {missing} "
                         f"(FusedAdam reads {list(PRIVATE_KERAS_ATTRIBUTES)}): update FusedAdam or pin Keras lower")
    fused = FusedAdam()
    fused.build([keras.Variable(np.zeros(3, "float32"))])
    assert fused._fused_update  # the fused kernel, not the fallback, runs


def test_fused_adam_falls_back_to_keras_adam_without_the_private_attributes(monkeypatch):
    import tfgan_translate.training.optimizers as optimizers

    monkeypatch.setattr(optimizers, "PRIVATE_KERAS_ATTRIBUTES", ("_no_such_attribute",))
    w, reference = keras.Variable([1.0, 2.0]), keras.Variable([1.0, 2.0])
    fused, adam = FusedAdam(0.1), keras.optimizers.Adam(0.1)
    fused.build([w])
    assert not fused._fused_update
    grad = [keras.ops.convert_to_tensor([0.5, -0.5])]
    fused.apply(grad, [w])
    adam.apply(grad, [reference])
    np.testing.assert_allclose(w.numpy(), reference.numpy(), rtol=1e-6)
