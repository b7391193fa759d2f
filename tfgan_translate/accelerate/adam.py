"""The reference's optimizer, `torch.optim.Adam`, with TensorFlow's fused update kernel.

PyTorch's Adam (Kingma & Ba 2015, Algorithm 1, with epsilon added to the bias-corrected root)::

    m = beta_1 * m + (1 - beta_1) * g;  v = beta_2 * v + (1 - beta_2) * g * g
    w -= lr * (m / (1 - beta_1 ** t)) / (sqrt(v / (1 - beta_2 ** t)) + epsilon)

Keras' Adam adds its epsilon before the bias correction ("epsilon hat"), which at step t is PyTorch's
epsilon times 1 / sqrt(1 - beta_2 ** t): 32x larger at the first step with beta_2 = 0.999, and with
Keras' default 1e-7, 10x larger after that. Over 20 steps of the reference's GANs this moved the
adversarial terms 68 % away from the reference's (10 % with PyTorch's form), so the package trains with
this class, whose default epsilon is PyTorch's 1e-8.

The update runs either as plain element-wise ops (`fused=False`) or, by default, as TensorFlow's
`ResourceApplyAdam` kernel, one multithreaded pass per variable: pix2pix's unet_256 has 54 million
weights, and on a 2-core CPU the element-wise update took 0.15 s of a 0.7 s training step, the kernel
0.05 s (`benchmarks/bench.py`). The kernel adds its epsilon before the bias correction, so it is given
`epsilon * sqrt(1 - beta_2 ** t)`: the same update, up to float rounding.

The slot variables are made and found through the public `keras.optimizers.Optimizer` API (`build`,
`add_variable_from_reference`, `update_step`). A checkpoint written when this class was a subclass of
`keras.optimizers.Adam` loads: the variables are the same, in the same order; its saved epsilon (Keras'
1e-7) is then added PyTorch's way, and a resumed run takes `adam_epsilon` from its config.

Reference: Kingma & Ba 2015, "Adam: A Method for Stochastic Optimization"; PyTorch's `torch.optim.Adam`.
"""

import keras
import tensorflow as tf
from keras import ops


def _handle(variable):
    """The resource handle of a Keras or TensorFlow variable (a replica's own under tf.distribute updates)."""
    return (variable.value if isinstance(variable, keras.Variable) else variable).handle


@keras.saving.register_keras_serializable(package="tfgan_translate")
class FusedAdam(keras.optimizers.Optimizer):
    """`torch.optim.Adam`'s update, by default in TensorFlow's fused `ResourceApplyAdam` kernel.

    Args:
        learning_rate: float or `keras.optimizers.schedules.LearningRateSchedule`. Defaults to `0.001`.
        beta_1: float. Decay of the first moment. Defaults to `0.9`.
        beta_2: float. Decay of the second moment. Defaults to `0.999`.
        epsilon: float. Added to the bias-corrected root `sqrt(v_hat)`, as PyTorch adds it. Defaults to
            `1e-8` (PyTorch's).
        fused: bool. One fused kernel per variable (TensorFlow backend), or plain ops. A speed-up, not
            part of the config: `tfgan_translate.accelerate.accelerate(model, fused_adam=...)` sets it on
            a model's optimizers. Defaults to `True`.
        name: str. Defaults to `"fused_adam"`.
        **kwargs: `keras.optimizers.Optimizer` arguments (`weight_decay`, `clipnorm`, ...).

    Example:

    >>> opt = FusedAdam(2e-4, beta_1=0.5)
    >>> w = keras.Variable([1.0, 2.0])
    >>> opt.apply([keras.ops.convert_to_tensor([0.5, -0.5])], [w])
    >>> [round(float(v), 4) for v in w.numpy()]
    [0.9998, 2.0002]

    Reference: Kingma & Ba 2015, Algorithm 1; PyTorch's `torch.optim.Adam`.
    """

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-8,
                 fused: bool = True, name: str = "fused_adam", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon, self.fused = beta_1, beta_2, epsilon, fused

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self.momentums, self.velocities = [], []
        for variable in var_list:  # interleaved, as keras.optimizers.Adam: its checkpoints load
            self.momentums.append(self.add_variable_from_reference(variable, "momentum"))
            self.velocities.append(self.add_variable_from_reference(variable, "velocity"))
        # `update_step` gets what the backend updates: under TensorFlow the tf.Variable, or a replica's own.
        index, strategy = {}, tf.distribute.get_strategy()
        for i, variable in enumerate(var_list):
            value = variable.value if isinstance(variable, keras.Variable) else variable
            index.update({id(local): i for local in (variable, value, *strategy.experimental_local_results(value))})
        self._index = index

    def update_step(self, gradient, variable, learning_rate):
        index = self._index[id(variable)]
        m, v = self.momentums[index], self.velocities[index]
        dtype = variable.dtype
        lr, beta_1, beta_2, epsilon = (ops.cast(x, dtype) for x in (learning_rate, self.beta_1, self.beta_2,
                                                                     self.epsilon))
        step = ops.cast(self.iterations + 1, dtype)
        beta_1_power, beta_2_power = ops.power(beta_1, step), ops.power(beta_2, step)
        gradient = ops.cast(gradient, dtype)
        if self.fused and keras.backend.backend() == "tensorflow":
            tf.raw_ops.ResourceApplyAdam(
                var=_handle(variable), m=_handle(m), v=_handle(v), beta1_power=beta_1_power,
                beta2_power=beta_2_power, lr=lr, beta1=beta_1, beta2=beta_2,
                epsilon=epsilon * ops.sqrt(1 - beta_2_power), grad=gradient)
            return
        self.assign_add(m, (gradient - m) * ops.cast(1 - self.beta_1, dtype))  # 1 - beta in float64, as PyTorch
        self.assign_add(v, (ops.square(gradient) - v) * ops.cast(1 - self.beta_2, dtype))
        denominator = ops.sqrt(v) / ops.sqrt(1 - beta_2_power) + epsilon
        self.assign_sub(variable, lr / (1 - beta_1_power) * m / denominator)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config.pop("amsgrad", None)  # saved when this class was a keras.optimizers.Adam (always False)
        return super().from_config(config, custom_objects=custom_objects)


__all__ = ["FusedAdam"]
