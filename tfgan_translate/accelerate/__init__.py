"""CPU speed-ups, applied to a built model and its optimizers at train time and never saved with it.

- `set_winograd` (winograd.py): stride-1 3x3 / 4x4 `Conv2D` calls as Winograd F(4x4, 3x3) / F(3x3, 4x4).
- `set_fused_norm` (norms.py): batch norm, and instance norm at batch 1, in TensorFlow's fused kernel.
- `FusedAdam` (adam.py): PyTorch's Adam, each variable's update in one fused kernel (its `fused` attribute).

These change how a layer or an optimizer computes, not what it is: the layers keep their stock
class, config and weights (the replacement is an attribute of the layer object), so a network saved with
the speed-ups on equals one saved with them off, and an export holds plain ops with nothing to strip.
`accelerate` switches them together; `train` calls it with `--winograd` after building or loading a model.

Example:

>>> from tfgan_translate.config import CycleGANConfig
>>> from tfgan_translate.training.run import build_model
>>> model = build_model(CycleGANConfig(netG="resnet_6blocks", ngf=4, ndf=4, image_size=32))
>>> accelerate(model, winograd=True)
{'winograd': 42, 'fused_norm': 40, 'fused_adam': 0}
"""

from tfgan_translate.accelerate.adam import FusedAdam
from tfgan_translate.accelerate.norms import set_fused_norm
from tfgan_translate.accelerate.winograd import set_winograd, uses_winograd, winograd_conv2d


def accelerate(model, *, winograd: bool = True, fused_norm: bool = True, fused_adam: bool = True) -> dict:
    """Switches the speed-ups on (or off) for a built `model` and its optimizers.

    Takes effect when a function calling the model is next traced (`fit` traces on its first call).

    Args:
        model: keras.Model. A Pix2Pix / CycleGAN model, or a network.
        winograd: bool. `set_winograd`: stride-1 3x3 / 4x4 convolutions as Winograd on CPU (float32, at
            least 128 channels). Defaults to `True`.
        fused_norm: bool. `set_fused_norm`: batch and instance norm in the fused kernel in training.
            Defaults to `True`.
        fused_adam: bool. The `fused` attribute of each `FusedAdam` among the model's optimizers
            (`g_optimizer`, `d_optimizer`, `optimizer`, inside a `LossScaleOptimizer` too). Defaults to `True`.

    Returns:
        dict: how many convolutions, norm layers and optimizers were set, by argument name.
    """
    optimizers = (getattr(model, name, None) for name in ("g_optimizer", "d_optimizer", "optimizer"))
    adams = [o for o in (getattr(o, "inner_optimizer", o) for o in optimizers) if isinstance(o, FusedAdam)]
    for optimizer in adams:
        optimizer.fused = bool(fused_adam)
    return {"winograd": set_winograd(model, winograd), "fused_norm": set_fused_norm(model, fused_norm),
            "fused_adam": len(adams)}


__all__ = ["FusedAdam", "accelerate", "set_fused_norm", "set_winograd", "uses_winograd",
           "winograd_conv2d"]
