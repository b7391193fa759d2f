"""CUT / FastCUT: the PatchNCE loss, the projection head, the model's step, saving, and runs through the CLI."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tfgan_translate import losses
from tfgan_translate.app.cli import TRAIN_MODELS, build_parser, config_from_args, main
from tfgan_translate.config import CUTConfig
from tfgan_translate.data import write_synthetic_dataset
from tfgan_translate.models.cut import CUT
from tfgan_translate.networks import PatchGANDiscriminator, ResNetGenerator
from tfgan_translate.networks.patch_projection import PatchProjection, sample_patch_ids
from tfgan_translate.training.run import load_run

LAYERS = (0, 4, 8, 12)  # padded input, the two down convs, the first residual block: all in a 1-block net


def tiny_cut(mode="cut", num_patches=16, nce_layers=LAYERS, channels=(3, 3), **options):
    """A compiled CUT (mode "cut") or FastCUT with a 1-block ResNet, ngf = ndf = 4, blur down/up-sampling."""
    preset = {"cut": dict(lambda_nce=1.0, nce_idt=True, flip_equivariance=False),
              "fastcut": dict(lambda_nce=10.0, nce_idt=False, flip_equivariance=True)}[mode]
    g = ResNetGenerator(n_blocks=1, ngf=4, input_channels=channels[0], output_channels=channels[1],
                        downsample="blur", upsample="blur", init="xavier")
    d = PatchGANDiscriminator(input_channels=channels[1], condition_channels=0, ndf=4, n_layers=2, norm="instance",
                              downsample="blur", init="xavier")
    model = CUT(g, d, nce_layers=nce_layers, num_patches=num_patches, **{**preset, **options})
    model.compile(g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                  d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
    return model


def images(n=2, size=32, channels=3, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, size, size, channels)).astype(np.float32)


def unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def patch_nce_numpy(q, k, temperature):
    """The authors' PatchNCELoss.forward, transcribed: rows b * P + i, negatives from the same image."""
    batch, patches, dim = q.shape
    flat_q, flat_k = q.reshape(-1, dim), k.reshape(-1, dim)
    l_pos = np.sum(flat_q * flat_k, axis=1, keepdims=True)  # bmm (N, 1, D) x (N, D, 1)
    l_neg = np.matmul(q, np.transpose(k, (0, 2, 1)))  # bmm per image: (B, P, P)
    l_neg[:, np.arange(patches), np.arange(patches)] = -10.0  # masked_fill_ of the diagonal
    out = np.concatenate([l_pos, l_neg.reshape(-1, patches)], axis=1) / temperature
    top = out.max(1, keepdims=True)
    log_softmax = out - top - np.log(np.sum(np.exp(out - top), 1, keepdims=True))
    return -log_softmax[:, 0].reshape(batch, patches)  # CrossEntropyLoss(reduction='none'), target 0


# ---------------------------------------------------------------------------------------- loss, projection, sampling
def test_patch_nce_matches_the_authors_formula_with_the_diagonal_mask():
    rng = np.random.default_rng(1)
    q, k = unit(rng.normal(size=(2, 5, 8))), unit(rng.normal(size=(2, 5, 8)))
    k[1] = q[1] + 0.1 * k[1]  # one image whose keys sit near their queries: small positive-class loss
    expected = patch_nce_numpy(q, k, 0.07)
    actual = losses.patch_nce_loss(q.astype(np.float32), k.astype(np.float32), 0.07).numpy()
    assert actual.shape == (2, 5)
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5)
    assert expected[1].mean() < expected[0].mean()
    # the other image's keys are no negatives: changing them leaves image 0's losses alone
    k2 = k.copy()
    k2[1] = unit(rng.normal(size=(5, 8)))
    np.testing.assert_allclose(losses.patch_nce_loss(q, k2).numpy()[0], actual[0], rtol=1e-5)
    with pytest.raises(ValueError, match="temperature"):
        losses.patch_nce_loss(q, k, 0.0)


def test_keys_get_no_gradient():
    q = tf.Variable(unit(np.random.default_rng(2).normal(size=(2, 4, 8))).astype(np.float32))
    k = tf.Variable(unit(np.random.default_rng(3).normal(size=(2, 4, 8))).astype(np.float32))
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(losses.patch_nce_loss(q, k))
    grad_q, grad_k = tape.gradient(loss, [q, k])
    assert grad_k is None
    assert float(tf.reduce_max(tf.abs(grad_q))) > 0


def test_projection_is_a_two_layer_mlp_to_unit_vectors_with_xavier_weights():
    f = PatchProjection([3, 64], units=32, init_gain=0.02)
    outputs = f([tf.random.normal([2, 7, 3]), tf.random.normal([2, 7, 64])])
    assert [tuple(o.shape) for o in outputs] == [(2, 7, 32), (2, 7, 32)]
    assert all(o.dtype == tf.float32 for o in outputs)
    np.testing.assert_allclose(tf.norm(outputs[1], axis=-1).numpy(), 1.0, atol=1e-4)
    assert sorted(layer.name for layer in f.layers if layer.weights) == ["mlp0_dense1", "mlp0_dense2", "mlp1_dense1",
                                                                         "mlp1_dense2"]
    kernel, bias = f.get_layer("mlp1_dense1").weights
    assert kernel.shape == (64, 32) and not np.any(bias.numpy())
    assert kernel.numpy().std() == pytest.approx(0.02 * np.sqrt(2 / (64 + 32)), rel=0.1)
    again = PatchProjection.from_config(f.get_config())
    assert again.get_config() == f.get_config()


def test_sampling_takes_the_same_distinct_positions_and_all_of_them_when_asked_for_more():
    seed = tf.constant([5, 0], tf.int64)
    ids = sample_patch_ids(4, 4, 6, seed).numpy()
    assert len(set(ids)) == 6 and ids.min() >= 0 and ids.max() < 16
    np.testing.assert_array_equal(sample_patch_ids(4, 4, 6, seed).numpy(), ids)  # stateless: same key, same draw
    assert sorted(sample_patch_ids(4, 4, 256, seed).numpy()) == list(range(16))


def test_num_patches_above_the_positions_uses_all_of_them():
    model = tiny_cut(num_patches=10**6)
    a = images()
    fake = model.generator(a)
    # every location of every layer: the mean loss is the same for any draw (any permutation of all positions)
    first, other = (float(model.patch_nce(a, fake, step=s)) for s in (0, 7))
    assert first == pytest.approx(other, rel=1e-5)
    few = tiny_cut(num_patches=8)
    few.set_weights(model.get_weights())
    assert float(few.patch_nce(a, fake, step=0)) != pytest.approx(float(few.patch_nce(a, fake, step=7)), rel=1e-5)


# ---------------------------------------------------------------------------------------- the model
def test_a_step_updates_generator_projection_and_discriminator():
    model = tiny_cut()
    nets = (model.generator, model.projection, model.discriminator)
    before = [[w.numpy().copy() for w in net.trainable_weights] for net in nets]
    model.train_step((images(seed=1), images(seed=2)))
    for net, old in zip(nets, before):
        changed = [not np.array_equal(w.numpy(), o) for w, o in zip(net.trainable_weights, old)]
        assert any(changed), f"{net.name} did not change"
    assert model.steps_run == 1 and int(model.g_optimizer.iterations) == int(model.d_optimizer.iterations) == 1


@pytest.mark.parametrize("mode", ["cut", "fastcut"])
def test_identity_term_for_cut_only(mode):
    model = tiny_cut(mode)
    logs = {k: float(v) for k, v in model.train_step((images(seed=1), images(seed=2))).items()}
    assert {"gen_loss", "g_gan_loss", "nce_loss", "d_loss", "d_real_loss", "d_fake_loss"} <= set(logs)
    assert logs["d_loss"] == pytest.approx(0.5 * (logs["d_real_loss"] + logs["d_fake_loss"]), rel=1e-5)
    if mode == "cut":
        assert logs["nce_identity_loss"] > 0
        nce = 0.5 * (logs["nce_loss"] + logs["nce_identity_loss"])
    else:
        assert "nce_identity_loss" not in logs and all("identity" not in m.name for m in model.metrics)
        nce = logs["nce_loss"]
    assert logs["gen_loss"] == pytest.approx(logs["g_gan_loss"] + nce, rel=1e-5)


def test_flip_equivariance_flips_the_query_features_back():
    # Layer 0 is the reflection-padded input itself, which flipping commutes with: queries of flip(a) flipped
    # back are the keys of a, the lowest loss; without the flip-back they are not.
    model = tiny_cut("fastcut", nce_layers=(0,), num_patches=64)
    a = images(seed=3)
    mirrored = a[:, :, ::-1]
    same = float(model.patch_nce(a, a))
    flipped_back = float(model.patch_nce(a, mirrored, flipped=tf.constant(True)))
    not_flipped = float(model.patch_nce(a, mirrored, flipped=tf.constant(False)))
    assert flipped_back == pytest.approx(same, rel=1e-5)
    assert not_flipped > same + 0.1
    draws = [bool(CUT.flip_draw(step)) for step in range(32)]
    assert 4 < sum(draws) < 28 and draws == [bool(CUT.flip_draw(step)) for step in range(32)]


def test_invalid_options_are_explained():
    g = ResNetGenerator(n_blocks=1, ngf=4, input_channels=1, output_channels=3)
    d = PatchGANDiscriminator(input_channels=3, condition_channels=0, ndf=4, n_layers=2)
    with pytest.raises(ValueError, match="nce_idt"):
        CUT(g, d, nce_layers=LAYERS)
    with pytest.raises(ValueError, match="nce_layers"):
        CUT(g, d, nce_idt=False, nce_layers=(0, 99))
    with pytest.raises(ValueError, match="num_patches"):
        CUT(g, d, nce_idt=False, nce_layers=LAYERS, num_patches=0)
    with pytest.raises(ValueError, match="direction"):
        CUT(g, d, nce_idt=False, nce_layers=LAYERS).translate(images(1, channels=1), "BtoA")


def test_keras_round_trip_keeps_outputs_options_and_optimizers(tmp_path):
    model = tiny_cut("fastcut")
    a, b = images(seed=4), images(seed=5)
    model.train_step((a, b))
    path = tmp_path / "cut.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, CUT) and isinstance(loaded.projection, PatchProjection)
    for name in CUT.OPTIONS:
        assert getattr(loaded, name) == getattr(model, name), name
    np.testing.assert_allclose(loaded(a).numpy(), model(a).numpy(), atol=1e-6)
    fake = model.generator(a)
    assert float(loaded.patch_nce(a, fake, step=3)) == pytest.approx(float(model.patch_nce(a, fake, step=3)), rel=1e-5)
    assert int(loaded.g_optimizer.iterations) == 1 and loaded.steps_run == 1
    for old, new in zip(model.g_optimizer.variables, loaded.g_optimizer.variables):
        np.testing.assert_array_equal(old.numpy(), new.numpy())
    assert len(loaded.weights) == len(model.weights)


# ---------------------------------------------------------------------------------------- config and command line
TINY = ["--image-size", "32", "--load-size", "36", "--netG", "resnet_1blocks", "--ngf", "4", "--ndf", "4",
        "--netD", "n_layers", "--n-layers-D", "2", "--nce-layers", "0,4,8,12", "--num-patches", "16",
        "--steps-per-epoch", "1", "--batch-size", "2", "--precision", "float32", "--strategy", "none",
        "--validation-steps", "1", "--seed", "3"]


def _config(*argv):
    args = build_parser().parse_args(["train", *argv])
    config_cls, fixed = TRAIN_MODELS[args.model]
    return config_from_args(config_cls, args, fixed)


def test_cut_and_fastcut_presets_from_the_command_line(tmp_path):
    cut = _config("cut", "--data", "synth", "--out", str(tmp_path / "r"))
    assert isinstance(cut, CUTConfig) and cut.mode == "cut"
    assert (cut.lambda_nce, cut.nce_idt, cut.flip_equivariance) == (1.0, True, False)
    assert (cut.constant_epochs, cut.decay_epochs) == (200, 200)
    assert (cut.netG, cut.downsample, cut.upsample, cut.init, cut.norm, cut.gan_mode, cut.dropout) == (
        "resnet_9blocks", "blur", "blur", "xavier", "instance", "lsgan", 0.0)
    assert (cut.lr, cut.beta_1, cut.beta_2, cut.batch_size, cut.load_size, cut.image_size) == (
        2e-4, 0.5, 0.999, 1, 286, 256)
    assert (cut.nce_layers, cut.num_patches, cut.nce_temperature) == ((0, 4, 8, 12, 16), 256, 0.07)
    fast = _config("fastcut", "--data", "synth", "--out", str(tmp_path / "r"), "--nce-layers", "0,4",
                   "--nce-T", "0.1", "--lambda-nce", "3")
    assert fast.mode == "fastcut" and (fast.nce_idt, fast.flip_equivariance) == (False, True)
    assert (fast.constant_epochs, fast.decay_epochs) == (150, 50)
    assert (fast.nce_layers, fast.nce_temperature, fast.lambda_nce) == ((0, 4), 0.1, 3.0)
    assert _config("fastcut", "--data", "synth", "--out", str(tmp_path / "r"), "--n-epochs", "150").epochs == 200
    assert CUTConfig.from_dict(fast.to_dict()) == fast


@pytest.fixture(scope="module")
def fastcut_runs(tmp_path_factory):
    """FastCUT trained 2 steps straight, and 1 step then resumed for 1 more, through the command line."""
    root = tmp_path_factory.mktemp("cut")
    data = write_synthetic_dataset(root / "data", n_train=4, n_test=2, size=32, seed=0)
    straight, resumed = root / "straight", root / "resumed"
    assert main(["-q", "train", "fastcut", "--data", str(data), "--out", str(straight), *TINY, "--epochs", "2"]) == 0
    assert main(["-q", "train", "fastcut", "--data", str(data), "--out", str(resumed), *TINY, "--epochs", "1"]) == 0
    assert main(["-q", "train", "fastcut", "--out", str(resumed), "--resume", "--epochs", "2"]) == 0
    return straight, resumed


def test_resumed_fastcut_run_matches_the_uninterrupted_one(fastcut_runs):
    straight, resumed = fastcut_runs
    config, expected = load_run(straight)
    assert config.mode == "fastcut" and json.loads((resumed / "config.json").read_text())["epochs"] == 2
    _, actual = load_run(resumed)
    assert isinstance(actual, CUT) and actual.steps_run == expected.steps_run == 2
    assert len(actual.weights) == len(expected.weights)
    for a, e in zip(actual.weights, expected.weights):
        np.testing.assert_allclose(a.numpy(), e.numpy(), atol=1e-6, err_msg=a.path)
    for a, e in zip(actual.g_optimizer.variables, expected.g_optimizer.variables):
        np.testing.assert_allclose(a.numpy(), e.numpy(), atol=1e-6, err_msg=a.path)
    metrics = json.loads((straight / "metrics.json").read_text())
    assert {"gen_loss", "g_gan_loss", "nce_loss", "d_loss", "val_patch_nce"} <= set(metrics)
    assert "nce_identity_loss" not in metrics
    assert (straight / "samples" / "epoch_0002.png").is_file()


def test_translate_and_export_a_cut_run(fastcut_runs, tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    straight, _ = fastcut_runs
    image = tmp_path / "in" / "x.png"
    image.parent.mkdir()
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(image)
    assert main(["-q", "translate", "--checkpoint", str(straight), "--input", str(image), "--output",
                 str(tmp_path / "out")]) == 0
    assert Image.open(tmp_path / "out" / "x.png").size == (30, 20)
    assert main(["-q", "translate", "--checkpoint", str(straight), "--direction", "BtoA", "--input", str(image),
                 "--output", str(tmp_path / "back")]) == 2  # CUT has only G
    assert main(["-q", "export", str(straight), "--out", str(tmp_path / "export"), "--tflite"]) == 0
    metadata = json.loads((tmp_path / "export" / "metadata.json").read_text())
    assert metadata["model"]["kind"] == "cut" and metadata["training_config"]["model"] == "cut"
    interpreter = Interpreter(model_path=str(tmp_path / "export" / "generator_float32.tflite"))
    interpreter.allocate_tensors()
    (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()
    x = images(1, size=inp["shape"][1])
    interpreter.set_tensor(inp["index"], x)
    interpreter.invoke()
    expected = load_run(straight)[1].generator(x).numpy()
    np.testing.assert_allclose(interpreter.get_tensor(out["index"]), expected, atol=1e-4)
