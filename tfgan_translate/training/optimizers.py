"""Adam with TensorFlow's fused update kernel: the same steps, one pass over memory per variable.

Keras' Adam updates each variable with about ten element-wise ops (each a
pass over the weights, the moments and temporaries). pix2pix's unet_256 has
54 million weights, so on a 2-core CPU that update alone took 0.15 s of a
0.7 s training step. TensorFlow's `ResourceApplyAdam` kernel does the same
arithmetic in one multithreaded pass: 0.05 s (`benchmarks/bench.py` measures
the step; see docs/benchmarks.md).

The update is Keras' (Kingma & Ba 2015, Algorithm 1 with the "epsilon hat"
form)::

    alpha = lr * sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    m += (g - m) * (1 - beta_1);  v += (g * g - v) * (1 - beta_2)
    w -= alpha * m / (sqrt(v) + epsilon)

`FusedAdam` keeps Adam's variables, configuration and checkpoint layout,
and falls back to Keras' update where the kernel does not apply (AMSGrad,
sparse gradients, other backends).

It reads three private attributes of `keras.optimizers.Adam` (`PRIVATE_KERAS_ATTRIBUTES`): the moment
variables and the index of a variable among them. setup.cfg pins the Keras minor version this was tested
with, `tests/test_optimizers.py` fails naming the attribute if a Keras release drops one, and should one be
missing at run time anyway, `FusedAdam` runs Keras' own update (with a warning) instead of failing.
"""

from __future__ import annotations

import logging

import keras
import tensorflow as tf

log = logging.getLogger("tfgan_translate")

# Private attributes of keras.optimizers.Adam that the fused update reads (Keras 3.15).
PRIVATE_KERAS_ATTRIBUTES = ("_momentums", "_velocities", "_get_variable_index")


def missing_private_attributes(optimizer) -> list[str]:
    """The names in `PRIVATE_KERAS_ATTRIBUTES` that a built Adam `optimizer` lacks (empty when all exist)."""
    return [name for name in PRIVATE_KERAS_ATTRIBUTES if not hasattr(optimizer, name)]


def _handle(variable):
    """The resource handle of a Keras or TensorFlow variable (a replica's own under tf.distribute updates)."""
    if isinstance(variable, keras.Variable):
        variable = variable.value
    return variable.handle


@keras.saving.register_keras_serializable(package="tfgan_translate")
class FusedAdam(keras.optimizers.Adam):
    """`keras.optimizers.Adam` whose dense updates run TensorFlow's fused `ResourceApplyAdam` kernel.

    Takes exactly Adam's arguments and gives the same updates up to float
    rounding (about 1e-7 relative).

    Example:

    >>> opt = FusedAdam(2e-4, beta_1=0.5)
    >>> w = keras.Variable([1.0, 2.0])
    >>> opt.apply([keras.ops.convert_to_tensor([0.5, -0.5])], [w])
    >>> [round(float(v), 4) for v in w.numpy()]
    [0.9998, 2.0002]
    """

    def build(self, variables):
        super().build(variables)
        missing = missing_private_attributes(self)
        if missing:
            log.warning("FusedAdam: this Keras (%s) has no Adam attribute(s) %s; using Keras' own Adam update.",
                        keras.__version__, missing)
        self._fused_update = not missing

    def update_step(self, gradient, variable, learning_rate):
        if (not getattr(self, "_fused_update", False) or self.amsgrad or isinstance(gradient, tf.IndexedSlices)
                or keras.backend.backend() != "tensorflow"):
            super().update_step(gradient, variable, learning_rate)
            return
        dtype = variable.dtype
        step = tf.cast(self.iterations + 1, dtype)
        index = self._get_variable_index(variable)
        tf.raw_ops.ResourceApplyAdam(
            var=_handle(variable), m=_handle(self._momentums[index]), v=_handle(self._velocities[index]),
            beta1_power=tf.pow(tf.cast(self.beta_1, dtype), step),
            beta2_power=tf.pow(tf.cast(self.beta_2, dtype), step),
            lr=tf.cast(learning_rate, dtype), beta1=tf.cast(self.beta_1, dtype), beta2=tf.cast(self.beta_2, dtype),
            epsilon=tf.cast(self.epsilon, dtype), grad=tf.cast(gradient, dtype),
        )


__all__ = ["PRIVATE_KERAS_ATTRIBUTES", "FusedAdam", "missing_private_attributes"]
