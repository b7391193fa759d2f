"""CUT and FastCUT: contrastive unpaired translation (Park, Efros, Zhang, Zhu 2020)."""

from typing import ClassVar

import keras
import tensorflow as tf

from tfgan_translate import losses
from tfgan_translate.choices import DIRECTIONS, check_choice
from tfgan_translate.models.base import TranslationGAN, config_discriminator, config_generator
from tfgan_translate.networks.layers import check_positive
from tfgan_translate.networks.patch_projection import PatchProjection, gather_patches, sample_patch_ids
from tfgan_translate.rng import name_seed, step_key

NCE_LAYERS = (0, 4, 8, 12, 16)  # the authors' --nce_layers: indices of their ResNet generator's nn.Sequential


class _Untracked:
    """Holds an object out of Keras' tracking and saving: the encoder is made of the generator's own layers."""

    def __init__(self, value):
        self.value = value


@keras.saving.register_keras_serializable(package="tfgan_translate")
class CUT(TranslationGAN):
    """CUT / FastCUT: G: A -> B trained with an adversarial loss and PatchNCE, without a second generator.

    Paper names (reference names in brackets): G [netG] maps domain X (A) to Y (B); its encoder G_enc is
    G's first layers, tapped at `nce_layers`; H_l [netF.mlp_l] projects each tapped layer's patches; D
    [netD] judges B images. The objective (Eq. 5):

        L = lambda_gan * L_GAN(G, D) + lambda_nce * L_PatchNCE(G, H, X)
            [+ lambda_nce * L_PatchNCE(G, H, Y), the identity term, with `nce_idt`; the two NCE terms averaged]

    where L_PatchNCE averages over the tapped layers the PatchNCE loss (`losses.patch_nce_loss`) of the
    projected patches of G_enc(G(x)) (queries) against those of G_enc(x) at the same `num_patches`
    locations (keys; held constant). No image pool. Each step updates D, then G and H together.

    G and H share `g_optimizer`: the authors give them two Adam optimizers (optimizer_G, optimizer_F) with
    the same hyperparameters, stepped together on the same loss; Adam's update is per variable, so one
    optimizer over both is the same update.

    Args:
        generator: keras.Model. G, A -> B: (B, H, W, C_a) -> (B, H, W, C_b); it must provide
            `encoder(nce_layers)` (`ResNetGenerator`).
        discriminator: keras.Model. D on (B, H, W, C_b) -> patch logits (unconditional PatchGAN).
        projection: `PatchProjection` or None. H, one MLP per tapped layer; None builds one (256 units,
            xavier gain 0.02) from the encoder's channels. Defaults to None.
        gan_mode: str. "lsgan" (default), "vanilla" or "wgangp".
        lambda_gan: float. Weight of the adversarial term. Defaults to 1.
        lambda_nce: float. Weight of the PatchNCE terms; 0 trains no NCE term. Defaults to 1 (CUT; FastCUT 10).
        nce_idt: bool. Add the identity PatchNCE term NCE(G(b), b). Defaults to True (CUT; FastCUT False).
        nce_layers: sequence of int. The tapped layers (the authors' indices). Defaults to (0, 4, 8, 12, 16).
        num_patches: int. Locations sampled per layer (all of them where fewer). Defaults to 256.
        nce_temperature: float. The PatchNCE temperature tau. Defaults to 0.07.
        flip_equivariance: bool. Flip each step's input batch left-right with probability 0.5 and the
            query features back (FastCUT's regularisation). Defaults to False (CUT; FastCUT True).
        lambda_gp: float. Gradient-penalty weight for "wgangp". Defaults to 10.

    Call arguments:
        inputs: (B, H, W, C_a) domain-A images in [-1, 1].

    Returns: G(inputs).

    Example:

    >>> from tfgan_translate import PatchGANDiscriminator, ResNetGenerator
    >>> g = ResNetGenerator(n_blocks=2, ngf=8)
    >>> d = PatchGANDiscriminator(condition_channels=0, ndf=8, n_layers=2, norm="instance")
    >>> model = CUT(g, d, nce_layers=(0, 4, 8), num_patches=64)
    >>> model.compile(g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
    ...               d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
    >>> # model.fit(unpaired_dataset("data/horse2zebra", image_size=32, load_size=36), epochs=1)

    Reference: Park, Efros, Zhang, Zhu, "Contrastive Learning for Unpaired Image-to-Image Translation",
    ECCV 2020 (models/cut_model.py of the authors' code).
    """

    NETWORKS = ("generator", "discriminator", "projection")
    OPTIONS: ClassVar = {"gan_mode": str, "lambda_gan": float, "lambda_nce": float, "nce_idt": bool, "nce_layers": list,
                         "num_patches": int, "nce_temperature": float, "flip_equivariance": bool, "lambda_gp": float}

    def __init__(self, generator: keras.Model, discriminator: keras.Model, projection: PatchProjection | None = None,
                 gan_mode: str = "lsgan", lambda_gan: float = 1.0, lambda_nce: float = 1.0, nce_idt: bool = True,
                 nce_layers=NCE_LAYERS, num_patches: int = 256, nce_temperature: float = 0.07,
                 flip_equivariance: bool = False, lambda_gp: float = 10.0, **kwargs):
        losses.check_gan_mode(gan_mode)
        for name, value in (("lambda_gan", lambda_gan), ("lambda_nce", lambda_nce), ("lambda_gp", lambda_gp)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise ValueError(f"Invalid value for argument `{name}`. Received: {name}={value!r}. "
                                 "Expected a number >= 0.")
        check_positive("num_patches", num_patches)
        check_positive("nce_temperature", nce_temperature, number=True)
        nce_layers = list(nce_layers)
        if not nce_layers or any(isinstance(i, bool) or not isinstance(i, int) or i < 0 for i in nce_layers):
            raise ValueError(f"Invalid value for argument `nce_layers`. Received: nce_layers={nce_layers!r}. "
                             "Expected a non-empty list of layer indices >= 0.")
        if not callable(getattr(generator, "encoder", None)):
            raise ValueError(f"Invalid value for argument `generator`: a {type(generator).__name__} has no "
                             "`encoder(nce_layers)`. Expected a ResNetGenerator.")
        channels_a, channels_b = generator.input_shape[-1], generator.output_shape[-1]
        if discriminator.input_shape[-1] != channels_b:
            raise ValueError(f"Invalid `discriminator`: it judges {discriminator.input_shape[-1]}-channel images; "
                             f"expected {channels_b} (G's output channels).")
        if nce_idt and channels_a != channels_b:
            raise ValueError(f"Invalid value for argument `nce_idt`. Received: nce_idt=True with {channels_a}-channel "
                             f"A and {channels_b}-channel B images; the identity term feeds B images to G.")
        encoder = generator.encoder(nce_layers)
        feature_channels = [int(t.shape[-1]) for t in keras.tree.flatten(encoder.outputs)]
        if projection is None:
            projection = PatchProjection(feature_channels, name="projection")
        elif list(projection.feature_channels) != feature_channels:
            raise ValueError(f"Invalid `projection`: it projects {projection.feature_channels} channels; the "
                             f"generator's layers {nce_layers} give {feature_channels}.")
        super().__init__(**kwargs)

        # === Networks ===
        self.generator, self.discriminator, self.projection = generator, discriminator, projection
        self.generators = [generator, projection]  # what g_optimizer trains: G and H together
        self.discriminators = [discriminator]
        self._encoder = _Untracked(encoder)  # G_enc: G's layers up to the last tapped one

        # === Options ===
        self._set_options(locals())

        # === Trackers ===
        names = ["gen_loss", "g_gan_loss", "nce_loss"] + (["nce_identity_loss"] if self.nce_idt else [])
        names += ["d_loss", "d_real_loss", "d_fake_loss"] + (["d_gp_loss"] if gan_mode == "wgangp" else [])
        self._track(names, val_names=("patch_nce",))
        self.built = True  # the networks are built functional models

    # ------------------------------------------------------------------ forward
    def encode(self, images, training: bool = False) -> list:
        """G_enc(images): the list of G's features at `nce_layers`, (B, H_l, W_l, C_l) each.

        (A method, not an attribute holding the encoder model: Keras saves every model an attribute
        holds, and the encoder's layers are G's, saved once with G.)
        """
        return keras.tree.flatten(self._encoder.value(images, training=training))

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def translate(self, images, direction: str = "AtoB", training: bool = False):
        """G(images); CUT trains one direction only ("AtoB": from its input domain)."""
        check_choice("direction", direction, DIRECTIONS)
        if direction != "AtoB":
            raise ValueError(f"Invalid value for argument `direction`. Received: direction={direction!r}. CUT trains "
                             "only G (A -> B): expected 'AtoB' (train a second run the other way for B -> A).")
        return self.generator(images, training=training)

    def sample_columns(self, real_a, real_b) -> list:
        """Columns of a preview grid: a | G(a) | b | G(b) (the identity column only for equal channels)."""
        columns = [real_a, self.generator(real_a, training=False), real_b]
        if real_a.shape[-1] == real_b.shape[-1]:
            columns.append(self.generator(real_b, training=False))
        return columns

    # --------------------------------------------------------------- train step
    def train_step(self, data):
        """One CUT iteration (the authors' `optimize_parameters`).

        1. Forward: fake_b = G(a); with `nce_idt`, G runs on concat(a, b) and the second half is
           idt_b = G(b); with `flip_equivariance` the input batch is flipped left-right with probability
           0.5 (drawn from the step), and the query features are flipped back in 3.
        2. Update D: L_D = 0.5 * (L(D(b), real) + L(D(fake_b), fake)), fake_b detached.
        3. Update G and H together with the updated D: L = lambda_gan * L(D(fake_b), real) + NCE, where
           NCE = PatchNCE(fake_b vs a), or with `nce_idt` its mean with PatchNCE(idt_b vs b).
        """
        real_a, real_b, _ = keras.utils.unpack_x_y_sample_weight(data)
        step = tf.identity(self.trained_steps.value)  # keys the patch and flip draws: a resumed run redraws them
        real = tf.concat([real_a, real_b], axis=0) if self.nce_idt else real_a
        flipped = self.flip_draw(step) if self.flip_equivariance else None
        if flipped is not None:
            real = tf.where(flipped, tf.reverse(real, axis=[2]), real)
        with tf.GradientTape() as tape:
            fake = self.generator(real, training=True)  # 1.
            fake_b = fake[:tf.shape(real_a)[0]]
            with tape.stop_recording():
                self._train_discriminator(real_b, tf.stop_gradient(fake_b), "cut/d_gp")  # 2.
            gen_loss = self._generator_loss(real_a, real_b, fake_b, fake[tf.shape(real_a)[0]:], flipped, step)  # 3.
        variables = self.generator_variables if self.lambda_nce > 0 else self.generator.trainable_variables
        self._update(tape, gen_loss, variables, self.g_optimizer)
        self.trained_steps.assign_add(1)
        return self._results(self._trackers)

    @staticmethod
    def flip_draw(step) -> tf.Tensor:
        """Whether step `step` flips its input batch (FastCUT): a scalar bool, True with probability 0.5."""
        return tf.random.stateless_uniform([], seed=step_key(name_seed("cut/flip"), step, per_replica=False)) < 0.5

    def _generator_loss(self, real_a, real_b, fake_b, idt_b, flipped, step):
        """Eq. 5, with the terms as the authors log them (weights applied): g_gan_loss + mean of the NCE terms.

        A term of weight 0 is not computed (it logs 0), as the authors skip it.
        """
        def weighted_nce(source, translated, stream):
            if self.lambda_nce > 0:
                return self.lambda_nce * self.patch_nce(source, translated, flipped, step, stream)
            return tf.constant(0.0)

        g_gan = tf.constant(0.0)
        if self.lambda_gan > 0:
            g_gan = self.lambda_gan * losses.generator_adversarial_loss(
                self.discriminator(fake_b, training=True), self.gan_mode)
        terms = {"g_gan_loss": g_gan, "nce_loss": weighted_nce(real_a, fake_b, "x")}
        nce = terms["nce_loss"]
        if self.nce_idt:
            terms["nce_identity_loss"] = weighted_nce(real_b, idt_b, "y")
            nce = 0.5 * (nce + terms["nce_identity_loss"])
        gen_loss = g_gan + nce
        self._record(self._trackers, {**terms, "gen_loss": gen_loss})
        return gen_loss

    def patch_nce(self, source, translated, flipped=None, step=0, stream: str = "x", training: bool = True):
        """L_PatchNCE of `translated` = G(source) against `source`, averaged over the tapped layers (unweighted).

        Args:
            source: (B, H, W, C_a) the images G translated (the keys' side).
            translated: (B, H, W, C_b) G's outputs (the queries' side).
            flipped: scalar bool tensor or None. Whether `translated` came from flipped inputs: its features
                are flipped back to line up with the source's.
            step: int or scalar tensor. Keys the sampled locations (with `stream`).
            stream: str. Names the draw ("x": the NCE term, "y": the identity term).
            training: bool. Run G_enc and H in training mode. Defaults to True.

        Returns:
            Scalar float32: mean over layers of the mean per-patch PatchNCE loss.
        """
        queries = self.encode(translated, training)
        if flipped is not None:
            queries = [tf.where(flipped, tf.reverse(f, axis=[2]), f) for f in queries]
        keys = self.encode(source, training)
        ids = [sample_patch_ids(tf.shape(f)[1], tf.shape(f)[2], self.num_patches,
                                step_key(name_seed(f"cut/patches/{stream}/{layer}"), step, per_replica=False))
               for layer, f in enumerate(keys)]
        queries = keras.tree.flatten(self.projection([gather_patches(f, i) for f, i in zip(queries, ids)],
                                                     training=training))
        keys = keras.tree.flatten(self.projection([gather_patches(f, i) for f, i in zip(keys, ids)],
                                                  training=training))
        per_layer = [tf.reduce_mean(losses.patch_nce_loss(q, k, self.nce_temperature)) for q, k in zip(queries, keys)]
        return tf.add_n(per_layer) / len(per_layer)

    # ---------------------------------------------------------------- test step
    def test_step(self, data):
        """Validation: the PatchNCE loss of G(a) against a (fixed locations, inference mode, unweighted)."""
        real_a, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        fake_b = self.generator(real_a, training=False)
        return self._record(self._val_trackers, {"patch_nce": self.patch_nce(real_a, fake_b, training=False)})

    # ------------------------------------------------------------ serialization
    @classmethod
    def from_preset(cls, preset, **kwargs):
        """An uncompiled CUT from the CUT authors' checkpoints.

        Args:
            preset: str or path-like. One of their pretrained generators by name ("horse2zebra_cut",
                "cityscapes_fastcut"; `tfgan_translate.reference.preset_names("cut")`), downloaded once into a
                cache, with a fresh discriminator and projection heads; or their `checkpoints/NAME/` run folder
                (G, D and F of one epoch, train_opt.txt as the config).
            **kwargs: `epoch` (with a folder), `cache_dir` (with a name) and `CUTConfig` fields.

        Example:

        >>> model = CUT.from_preset("horse2zebra_cut")  # doctest: +SKIP
        """
        from tfgan_translate.reference.cut_loader import build_cut

        return build_cut(preset, cut_from_config, **kwargs).model


def cut_from_config(config) -> CUT:
    """Builds G, D and H and the CUT model that a `CUTConfig` describes (uncompiled)."""
    cut_options = dict(downsample=config.downsample, init=config.init)  # of G and D (the authors': blur, xavier)
    generator = config_generator(config, config.input_channels, config.output_channels, name="generator",
                                 **cut_options)
    discriminator = config_discriminator(config, config.output_channels, name="discriminator", **cut_options)
    encoder = generator.encoder(list(config.nce_layers))
    projection = PatchProjection([int(t.shape[-1]) for t in keras.tree.flatten(encoder.outputs)],
                                 units=config.projection_units, init_gain=config.init_gain, name="projection")
    return CUT(generator, discriminator, projection, **CUT.options_of(config), name="cut")
