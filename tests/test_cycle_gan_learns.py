"""The cycle objective learns the right mapping, not only realistic outputs.

On the built-in unpaired "palette" set (A: flat-colour scenes; B: other scenes
with the palette permuted by a hidden T), a short CPU training must bring G(a)
closer to the true T(a) on held-out images than two fixed baselines: the
identity (G(a) = a) and the mean training image of domain B. A longer version
of this measurement (also for CUT and FastCUT) is benchmarks/palette.py.
"""

from tfgan_translate.config import CycleGANConfig
from tfgan_translate.data import known_mapping_errors, write_synthetic_unpaired_dataset
from tfgan_translate.training.run import train

SIZE = 32


def test_short_cyclegan_training_beats_identity_and_mean_baselines(tmp_path):
    root = write_synthetic_unpaired_dataset(tmp_path / "palette", n_train=64, n_test=16, size=SIZE, kind="palette")
    config = CycleGANConfig(
        data=str(root), image_size=SIZE, load_size=SIZE, netG="resnet_3blocks", ngf=16, netD="n_layers",
        n_layers_D=2, ndf=16, lambda_identity=0.0, pool_size=10, epochs=1, steps_per_epoch=300,
        validation_steps=2, seed=0, precision="float32", strategy="none",
    )
    result = train(config, tmp_path / "run", verbose=0)
    errors = known_mapping_errors(lambda a: result.model.generator_g(a, training=False), root)
    assert errors["G"] < errors["identity"], errors
    assert errors["G"] < errors["mean_image"], errors
