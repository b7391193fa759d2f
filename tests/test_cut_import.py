"""The CUT authors' checkpoints, torch-free (tfgan_translate.reference.cut_mapping).

tests/fixtures/cut/run holds a tiny CUT run folder written by torch (make_cut_fixtures.py: a transcription of the
authors' modules) and cut_outputs.npz their eval-mode outputs; the imported networks must match them within
1e-4. Also: round trips through the authors' keys, and the refusals (tampered `filt`, unexpected key).
"""

import os

import numpy as np
import pytest

from tfgan_translate.networks import PatchGANDiscriminator, ResNetGenerator
from tfgan_translate.networks.patch_projection import PatchProjection
from tfgan_translate.reference.cut_mapping import assign_cut_weights, cut_state_dict_from_network
from tfgan_translate.reference.errors import CheckpointError
from tfgan_translate.reference.pth import read_state_dict

RUN = os.path.join(os.path.dirname(__file__), "fixtures", "cut", "run")
OUTPUTS = os.path.join(os.path.dirname(__file__), "fixtures", "cut", "cut_outputs.npz")


def test_imported_networks_match_the_authors_outputs():
    expected = np.load(OUTPUTS)
    x = expected["x"].transpose(0, 2, 3, 1)
    g = ResNetGenerator(ngf=4, n_blocks=2, norm="instance", downsample="blur", upsample="blur", init="xavier",
                        image_size=32)
    assign_cut_weights(g, read_state_dict(os.path.join(RUN, "5_net_G.pth")), source="5_net_G.pth")
    np.testing.assert_allclose(np.asarray(g(x)), expected["G"].transpose(0, 2, 3, 1), atol=1e-4)
    d = PatchGANDiscriminator(input_channels=3, condition_channels=0, ndf=4, n_layers=3, norm="instance",
                              downsample="blur", image_size=32)
    assign_cut_weights(d, read_state_dict(os.path.join(RUN, "5_net_D.pth")))
    np.testing.assert_allclose(np.asarray(d(x)), expected["D"].transpose(0, 2, 3, 1), atol=1e-4)
    channels = [expected[f"feat{i}"].shape[1] for i in range(5)]
    assert [g.get_layer(n).output.shape[-1] for n in g.feature_layers([0, 4, 8, 12, 16])] == channels
    f = assign_cut_weights(PatchProjection(channels, units=8), read_state_dict(os.path.join(RUN, "5_net_F.pth")))
    projections = f([expected[f"feat{i}"][None] for i in range(5)])
    for i, y in enumerate(projections):
        np.testing.assert_allclose(np.asarray(y)[0], expected[f"F{i}"], atol=1e-4)


def _generator(seed):
    import keras
    keras.utils.set_random_seed(seed)
    return ResNetGenerator(ngf=4, n_blocks=2, norm="instance", downsample="blur", upsample="blur", init="xavier",
                           image_size=32)


def test_generator_keys_round_trip():
    source, target = _generator(1), _generator(2)
    state = cut_state_dict_from_network(source)
    # the authors' numbering: Downsample at 7 and 11, blocks from 12, Upsample at 12 + n and 16 + n, head 21 + n
    assert state["model.7.filt"].shape == (8, 1, 3, 3) and state["model.11.filt"].shape == (16, 1, 3, 3)
    assert state["model.12.conv_block.1.weight"].shape == (16, 16, 3, 3)
    assert state["model.14.filt"].shape == (16, 1, 4, 4) and state["model.15.weight"].shape == (8, 16, 3, 3)
    assert state["model.18.filt"].shape == (8, 1, 4, 4) and state["model.23.weight"].shape == (3, 4, 7, 7)
    x = np.random.default_rng(0).uniform(-1, 1, (1, 32, 32, 3)).astype("float32")
    assign_cut_weights(target, state)
    np.testing.assert_array_equal(np.asarray(target(x)), np.asarray(source(x)))


def test_discriminator_and_projection_round_trip():
    x = np.random.default_rng(0).uniform(-1, 1, (1, 32, 32, 3)).astype("float32")
    d1 = PatchGANDiscriminator(input_channels=3, condition_channels=0, ndf=4, n_layers=3, norm="instance",
                               downsample="blur", image_size=32)
    d2 = PatchGANDiscriminator(input_channels=3, condition_channels=0, ndf=4, n_layers=3, norm="instance",
                               downsample="blur", image_size=32)
    state = cut_state_dict_from_network(d1)
    assert [k for k in state if k.endswith("filt")] == ["model.2.filt", "model.6.filt", "model.10.filt"]
    assert state["model.14.weight"].shape == (1, 32, 4, 4)
    np.testing.assert_array_equal(np.asarray(assign_cut_weights(d2, state)(x)), np.asarray(d1(x)))
    f1, f2 = PatchProjection([3, 8], units=8), PatchProjection([3, 8], units=8)
    state = cut_state_dict_from_network(f1)
    assert state["mlp_1.0.weight"].shape == (8, 8) and state["mlp_0.0.weight"].shape == (8, 3)
    feats = [np.ones((1, 5, 3), "float32"), np.ones((1, 5, 8), "float32")]
    for a, b in zip(assign_cut_weights(f2, state)(feats), f1(feats)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_refusals_are_one_line():
    g = _generator(1)
    state = cut_state_dict_from_network(g)
    tampered = {**state, "model.7.filt": state["model.7.filt"] * 2}
    with pytest.raises(CheckpointError, match=r"model\.7\.filt: a filter other") as err:
        assign_cut_weights(g, tampered, source="latest_net_G.pth")
    assert "\n" not in str(err.value)
    with pytest.raises(CheckpointError, match=r"unexpected model\.99\.weight") as err:
        assign_cut_weights(g, {**state, "model.99.weight": np.zeros(3, "float32")})
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="downsample='blur'"):
        assign_cut_weights(ResNetGenerator(ngf=4, n_blocks=1, image_size=32), state)


def test_a_cut_run_folder_imports_and_resumes(tmp_path, synth_dir):
    from tfgan_translate.reference.importer import import_reference
    from tfgan_translate.training.run import load_run, train

    run_dir = tmp_path / "run"
    result = import_reference(RUN, run_dir, epoch=5, data=str(synth_dir), epochs=1, n_epochs_decay=0,
                              steps_per_epoch=1,
                              num_patches=16, sample_count=1, log_every=1)
    config, _ = load_run(run_dir)
    assert (type(config).__name__, config.mode, config.projection_units, config.nce_layers) == (
        "CUTConfig", "cut", 8, (0, 4, 8, 12, 16))
    assert {a: e["weights"] for a, e in result.provenance["networks"].items()} == {
        "generator": "imported", "discriminator": "imported", "projection": "imported"}
    expected = np.load(OUTPUTS)
    x = expected["x"].transpose(0, 2, 3, 1)
    np.testing.assert_allclose(np.asarray(result.model.generator(x)), expected["G"].transpose(0, 2, 3, 1), atol=1e-4)
    before = [w.numpy() for w in result.model.generator.trainable_weights]
    resumed = train(config, run_dir, resume=True, verbose=0)
    assert resumed.model.steps_run == 1
    after = [w.numpy() for w in resumed.model.generator.trainable_weights]
    assert any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))
