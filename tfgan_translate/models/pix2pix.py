"""Pix2Pix: conditional GAN with an L1 term (Isola et al. 2017)."""

from typing import ClassVar

import keras
import tensorflow as tf

from tfgan_translate import losses
from tfgan_translate.choices import objective_terms
from tfgan_translate.models.base import TranslationGAN, config_discriminator, config_generator
from tfgan_translate.models.metrics import image_quality


@keras.saving.register_keras_serializable(package="tfgan_translate")
class Pix2Pix(TranslationGAN):
    """pix2pix: a generator G: x -> y trained against a PatchGAN discriminator D.

    The paper's objective (Eq. 4) is
    ``G* = arg min_G max_D L_cGAN(G, D) + lambda * L_L1(G)`` where D judges
    (input, image) pairs: D(x, y) should say real, D(x, G(x)) fake. The
    `objective` argument selects the terms of the paper's ablation (Table 1):

    - ``"l1"``: L1 only (no discriminator is trained; outputs are blurry),
    - ``"gan"`` / ``"cgan"``: adversarial only, D unconditional / conditional,
    - ``"l1+gan"`` / ``"l1+cgan"``: both (``"l1+cgan"`` is pix2pix).

    A conditional D receives ``concat([x, image], axis=-1)``; an unconditional
    one receives the image alone. The discriminator loss is halved, as in the
    reference, and D is updated before G on every step.

    Args:
        generator: keras.Model. Maps (B, H, W, C_in) in [-1, 1] to (B, H, W, C_out).
        discriminator: keras.Model or None. Maps (B, H, W, C_in + C_out) (conditional)
            or (B, H, W, C_out) (unconditional) to patch logits (B, h, w, 1).
            Only None for objective="l1".
        objective: str. One of "l1", "gan", "cgan", "l1+gan", "l1+cgan".
            Defaults to "l1+cgan".
        gan_mode: str. "vanilla", "lsgan" or "wgangp". Defaults to "vanilla".
        lambda_l1: float. Weight of the L1 term. Defaults to 100.
        lambda_gp: float. Gradient-penalty weight for gan_mode="wgangp". Defaults to 10.

    Call arguments:
        inputs: (B, H, W, C_in) float tensor in [-1, 1].

    Returns: G(inputs), (B, H, W, C_out) in [-1, 1]. `predict` and export use this.

    Example:

    >>> from tfgan_translate import PatchGANDiscriminator, Pix2Pix, UNetGenerator
    >>> g = UNetGenerator(depth=5, ngf=8)
    >>> d = PatchGANDiscriminator(input_channels=3, condition_channels=3, ndf=8)
    >>> model = Pix2Pix(g, d)
    >>> model.compile(g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
    ...               d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
    >>> # model.fit(paired_dataset("data/facades", image_size=32, load_size=36), epochs=1)

    Reference: Isola et al., "Image-to-Image Translation with Conditional
    Adversarial Networks", CVPR 2017.
    """

    NETWORKS = ("generator", "discriminator")
    OPTIONS: ClassVar = {"objective": str, "gan_mode": str, "lambda_l1": float, "lambda_gp": float}

    def __init__(self, generator: keras.Model, discriminator: keras.Model | None = None,
                 objective: str = "l1+cgan", gan_mode: str = "vanilla", lambda_l1: float = 100.0,
                 lambda_gp: float = 10.0, **kwargs):
        terms = objective_terms(objective)
        losses.check_gan_mode(gan_mode)
        if terms.gan and discriminator is None:
            raise ValueError(f"objective={objective!r} trains a discriminator: pass `discriminator`.")
        self.conditional = terms.conditional
        if terms.gan:
            g_in, g_out = generator.input_shape[-1], generator.output_shape[-1]
            expected = g_in + g_out if self.conditional else g_out
            if (received := discriminator.input_shape[-1]) != expected:
                kind = f"input ({g_in}) + output ({g_out})" if self.conditional else f"output ({g_out})"
                raise ValueError(f"Invalid `discriminator` for objective={objective!r}: it takes {received} channels, "
                                 f"expected the generator's {kind} = {expected} channels.")
        super().__init__(**kwargs)

        # === Networks ===
        self.generator = generator
        self.discriminator = discriminator if terms.gan else None
        self.generators = [generator]
        self.discriminators = [discriminator] if terms.gan else []

        # === Options ===
        self._set_options(locals())
        self.uses_gan = terms.gan
        self.uses_l1 = terms.l1

        # === Trackers ===
        names = ["g_loss"]
        if self.uses_l1:
            names.append("g_l1_loss")
        if self.uses_gan:
            names += ["g_gan_loss", "d_loss", "d_real_loss", "d_fake_loss", "d_real", "d_fake"]
            if gan_mode == "wgangp":
                names.append("d_gp_loss")
        self._track(names, val_names=("l1", "psnr", "ssim"))
        self.built = True  # the networks are built functional models

    # ------------------------------------------------------------------ forward
    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def sample_columns(self, x, y) -> list:
        """Columns of a preview grid: input | G(input) | target."""
        return [x, self.generator(x, training=False), y]

    def _condition(self, x):
        """What D is conditioned on: `x` for the cGAN, None for an unconditional D."""
        return x if self.conditional else None

    # --------------------------------------------------------------- train step
    def train_step(self, data):
        """One pix2pix iteration (the reference's `optimize_parameters`).

        1. Generate y_fake = G(x) under the generator's tape.
        2. Update D on (x, y) as real and (x, y_fake), detached, as fake:
           L_D = 0.5 * (L(D(x, y), real) + L(D(x, y_fake), fake)) [+ lambda_gp * GP].
        3. Update G with the just-updated D:
           L_G = L(D(x, y_fake), real) + lambda_L1 * ||y - y_fake||_1.
        """
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as g_tape:
            y_fake = self.generator(x, training=True)  # 1.
            if self.uses_gan:
                with g_tape.stop_recording():
                    logits = self._train_discriminator(y, tf.stop_gradient(y_fake), "d_gp", self._condition(x))  # 2.
                    self._record(self._trackers, {"d_real": self._score(logits[0]), "d_fake": self._score(logits[1])})
            g_loss = self._generator_loss(x, y, y_fake)  # 3.
        self._update(g_tape, g_loss, self.generator_variables, self.g_optimizer)
        self.trained_steps.assign_add(1)
        return self._results(self._trackers)

    def _generator_loss(self, x, y, y_fake):
        """Eq. 4 for G: L_cGAN + lambda_L1 * L_L1, with the terms `objective` keeps."""
        terms = {}
        if self.uses_gan:
            logits = self._judge(self.discriminator, y_fake, self._condition(x))
            terms["g_gan_loss"] = losses.generator_adversarial_loss(logits, self.gan_mode)
        if self.uses_l1:
            terms["g_l1_loss"] = losses.l1_loss(y, y_fake)
        g_loss = terms.get("g_gan_loss", 0.0) + self.lambda_l1 * terms.get("g_l1_loss", 0.0)
        self._record(self._trackers, {**terms, "g_loss": g_loss})
        return g_loss

    def _score(self, logits):
        """Mean D output: a probability for vanilla GANs, the raw score otherwise."""
        return tf.reduce_mean(tf.sigmoid(logits) if self.gan_mode == "vanilla" else logits)

    # ---------------------------------------------------------------- test step
    def test_step(self, data):
        """Validation: L1, PSNR and SSIM of G(x) against y (G in inference mode)."""
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        return self._record(self._val_trackers, image_quality(y, self.generator(x, training=False)))

    # ------------------------------------------------------------ serialization
    @classmethod
    def from_preset(cls, preset, **kwargs):
        """An uncompiled Pix2Pix around the PyTorch reference's generator, with a fresh discriminator.

        Args:
            preset: str or path-like. A preset name ("pix2pix_facades_label2photo"; see
                `tfgan_translate.reference.preset_names()`), downloaded once into a cache; a generator's `.pth`
                file; or a reference pix2pix `checkpoints/NAME/` folder (G and D, the options as the config).
            **kwargs: `epoch` (with a folder), `cache_dir` (with a name), `discriminator` (with a file: the run's
                `net_D.pth`) and `Pix2PixConfig` fields (objective, lambda_l1, netD, ...).

        Example:

        >>> model = Pix2Pix.from_preset("pix2pix_facades_label2photo")  # doctest: +SKIP
        >>> model.compile(g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),  # doctest: +SKIP
        ...               d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
        """
        from tfgan_translate.reference.loader import build

        return build(preset, pix2pix_from_config, model="pix2pix", **kwargs).model


def pix2pix_from_config(config) -> Pix2Pix:
    """Builds the networks and the Pix2Pix model that a `Pix2PixConfig` describes (uncompiled)."""
    generator = config_generator(config, config.input_channels, config.output_channels)
    discriminator = None
    if config.terms.gan:
        condition_channels = config.input_channels if config.terms.conditional else 0
        discriminator = config_discriminator(config, config.output_channels, condition_channels)
    return Pix2Pix(generator, discriminator, **Pix2Pix.options_of(config), name="pix2pix")
