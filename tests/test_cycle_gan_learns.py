"""The cycle objective learns the right mapping, not only realistic outputs.

On the built-in unpaired "palette" set (A: flat-colour scenes; B: other scenes
with the palette permuted by a hidden T), a short CPU training must bring G(a)
closer to the true T(a) on held-out images than two fixed baselines: the
identity (G(a) = a) and the mean training image of domain B. A longer version
of this measurement is benchmarks/cyclegan_palette.py.
"""

import numpy as np

from tfgan_translate.config import CycleGANConfig
from tfgan_translate.data import list_images, load_image, write_synthetic_unpaired_dataset
from tfgan_translate.training.run import train

SIZE = 32


def held_out_errors(generator, root):
    """Mean |G(a) - T(a)| on testA, and the same for the identity and mean-image baselines."""
    a = np.stack([load_image(p, 3) for p in list_images(root / "testA")])
    truth = np.stack([load_image(p, 3) for p in list_images(root / "testA_truth")])
    mean_b = np.mean([load_image(p, 3) for p in list_images(root / "trainB")], axis=0)
    g_a = np.asarray(generator(a, training=False))
    return {
        "G": float(np.abs(g_a - truth).mean()),
        "identity": float(np.abs(a - truth).mean()),
        "mean_image": float(np.abs(mean_b[None] - truth).mean()),
    }


def test_short_cyclegan_training_beats_identity_and_mean_baselines(tmp_path):
    root = write_synthetic_unpaired_dataset(tmp_path / "palette", n_train=64, n_test=16, size=SIZE, kind="palette")
    config = CycleGANConfig(
        data=str(root), image_size=SIZE, load_size=SIZE, netG="resnet_3blocks", ngf=16, netD="n_layers",
        n_layers_D=2, ndf=16, lambda_identity=0.0, pool_size=10, epochs=1, steps_per_epoch=300,
        validation_steps=2, seed=0,
    )
    result = train(config, tmp_path / "run", verbose=0)
    errors = held_out_errors(result.model.generator_g, root)
    print(errors)
    assert errors["G"] < errors["identity"], errors
    assert errors["G"] < errors["mean_image"], errors
