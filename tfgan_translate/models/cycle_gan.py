"""CycleGAN: unpaired translation with cycle consistency (Zhu et al. 2017)."""

from typing import ClassVar

import keras
import tensorflow as tf

from tfgan_translate import losses
from tfgan_translate.choices import DIRECTIONS, check_choice
from tfgan_translate.models.base import TranslationGAN, config_discriminator, config_generator
from tfgan_translate.models.image_pool import ImagePool


@keras.saving.register_keras_serializable(package="tfgan_translate")
class CycleGAN(TranslationGAN):
    """CycleGAN: G: A -> B and F: B -> A, judged by D_B and D_A.

    Paper names (reference names in brackets): G [netG_A] maps domain A (X) to
    B (Y), F [netG_B] maps B to A; D_B [netD_A] judges B images, real b
    against G(a); D_A [netD_B] judges A images, real a against F(b). The full
    objective (Eq. 3, plus the identity term of Sec. 5.2):

        L = L_GAN(G, D_B) + L_GAN(F, D_A)
            + lambda_cycle * (||F(G(a)) - a||_1 + ||G(F(b)) - b||_1)
            + lambda_identity * lambda_cycle * (||G(b) - b||_1 + ||F(a) - a||_1)

    with least-squares GAN losses by default. Each step updates both
    generators with one optimizer, then both discriminators with the other,
    on generated images drawn from a 50-image history pool per discriminator;
    the discriminator losses are halved.

    Args:
        generator_g: keras.Model. G, A -> B: (B, H, W, C_a) -> (B, H, W, C_b).
        generator_f: keras.Model. F, B -> A: (B, H, W, C_b) -> (B, H, W, C_a).
        discriminator_a: keras.Model. D_A on (B, H, W, C_a) -> patch logits.
        discriminator_b: keras.Model. D_B on (B, H, W, C_b) -> patch logits.
        gan_mode: str. "lsgan" (default), "vanilla" or "wgangp".
        lambda_cycle: float. Cycle-consistency weight. Defaults to 10.
        lambda_identity: float. Identity weight relative to lambda_cycle;
            0 disables the identity term. Defaults to 0.5.
        lambda_gp: float. Gradient-penalty weight for "wgangp". Defaults to 10.
        pool_size: int. Images in each history pool; 0 disables the pools. Defaults to 50.
        image_size: int. Height = width of the training images (sizes the pools). Defaults to 256.

    Call arguments:
        inputs: (B, H, W, C_a) domain-A images in [-1, 1].

    Returns: G(inputs). Use `translate(images, direction="BtoA")` for F.

    Example:

    >>> from tfgan_translate import CycleGAN, PatchGANDiscriminator, ResNetGenerator
    >>> g, f = ResNetGenerator(n_blocks=2, ngf=8), ResNetGenerator(n_blocks=2, ngf=8)
    >>> d_a = PatchGANDiscriminator(condition_channels=0, ndf=8, norm="instance")
    >>> d_b = PatchGANDiscriminator(condition_channels=0, ndf=8, norm="instance")
    >>> model = CycleGAN(g, f, d_a, d_b, image_size=32)
    >>> model.compile(g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
    ...               d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
    >>> # model.fit(unpaired_dataset("data/horse2zebra", image_size=32, load_size=36), epochs=1)

    Reference: Zhu et al., "Unpaired Image-to-Image Translation using
    Cycle-Consistent Adversarial Networks", ICCV 2017.
    """

    NETWORKS = ("generator_g", "generator_f", "discriminator_a", "discriminator_b")
    OPTIONS: ClassVar = {"gan_mode": str, "lambda_cycle": float, "lambda_identity": float, "lambda_gp": float,
                         "pool_size": int, "image_size": int}

    def __init__(self, generator_g: keras.Model, generator_f: keras.Model, discriminator_a: keras.Model,
                 discriminator_b: keras.Model, gan_mode: str = "lsgan", lambda_cycle: float = 10.0,
                 lambda_identity: float = 0.5, lambda_gp: float = 10.0, pool_size: int = 50,
                 image_size: int = 256, **kwargs):
        losses.check_gan_mode(gan_mode)
        channels_a, channels_b = generator_g.input_shape[-1], generator_g.output_shape[-1]
        checks = {"generator_f": (generator_f.input_shape[-1], generator_f.output_shape[-1], (channels_b, channels_a)),
                  "discriminator_a": (discriminator_a.input_shape[-1], None, (channels_a, None)),
                  "discriminator_b": (discriminator_b.input_shape[-1], None, (channels_b, None))}
        for name, (c_in, c_out, (want_in, want_out)) in checks.items():
            if c_in != want_in or c_out != want_out:
                raise ValueError(f"Invalid `{name}`: it maps {c_in} -> {c_out} channels; expected {want_in} -> "
                                 f"{want_out} for G mapping {channels_a} (A) -> {channels_b} (B) channels.")
        if lambda_identity > 0 and channels_a != channels_b:
            raise ValueError(f"Invalid value for argument `lambda_identity`. Received: "
                             f"lambda_identity={lambda_identity} with {channels_a}-channel A and {channels_b}-channel "
                             "B images; the identity loss needs equal channels.")
        super().__init__(**kwargs)

        # === Networks ===
        self.generator_g, self.generator_f = generator_g, generator_f
        self.discriminator_a, self.discriminator_b = discriminator_a, discriminator_b
        self.generators = [generator_g, generator_f]
        self.discriminators = [discriminator_a, discriminator_b]
        # Pools of generated images: fake A images feed D_A, fake B images D_B.
        self.pool_a = ImagePool(pool_size, (image_size, image_size, channels_a), name="pool_a")
        self.pool_b = ImagePool(pool_size, (image_size, image_size, channels_b), name="pool_b")

        # === Options ===
        self._set_options(locals())

        # === Trackers ===
        names = ["gen_loss", "g_gan_loss", "f_gan_loss", "cycle_a_loss", "cycle_b_loss"]
        if self.lambda_identity > 0:
            names += ["identity_a_loss", "identity_b_loss"]
        names += ["d_a_loss", "d_b_loss"]
        if gan_mode == "wgangp":
            names += ["d_a_gp_loss", "d_b_gp_loss"]
        self._track(names, val_names=("reconstruction_a_l1", "reconstruction_b_l1"))
        self.built = True  # the networks and pools are built

    # ------------------------------------------------------------------ forward
    def call(self, inputs, training=False):
        return self.generator_g(inputs, training=training)

    def translate(self, images, direction: str = "AtoB", training: bool = False):
        """G(images) for "AtoB", F(images) for "BtoA"."""
        check_choice("direction", direction, DIRECTIONS)
        generator = self.generator_g if direction == "AtoB" else self.generator_f
        return generator(images, training=training)

    def sample_columns(self, real_a, real_b) -> list:
        """Columns of a preview grid, for each domain: real | translated | reconstructed | identity.

        a | G(a) | F(G(a)) | F(a) || b | F(b) | G(F(b)) | G(b)  (identity columns
        only when the domains have the same channel count).
        """
        fake_b = self.generator_g(real_a, training=False)
        fake_a = self.generator_f(real_b, training=False)
        columns_a = [real_a, fake_b, self.generator_f(fake_b, training=False)]
        columns_b = [real_b, fake_a, self.generator_g(fake_a, training=False)]
        if real_a.shape[-1] == real_b.shape[-1]:
            columns_a.append(self.generator_f(real_a, training=False))
            columns_b.append(self.generator_g(real_b, training=False))
        return columns_a + columns_b

    # --------------------------------------------------------------- train step
    def train_step(self, data):
        """One CycleGAN iteration (the reference's `optimize_parameters`).

        1. Forward both cycles: fake_b = G(a), rec_a = F(fake_b);
           fake_a = F(b), rec_b = G(fake_a); identity G(b), F(a).
        2. Update G and F together on the adversarial, cycle and identity terms.
        3. Draw fakes from the history pools and update D_A and D_B:
           L_D = 0.5 * (L(D(real), real) + L(D(pooled fake), fake)).
        """
        real_a, real_b, _ = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            fake_b = self.generator_g(real_a, training=True)  # 1.
            fake_a = self.generator_f(real_b, training=True)
            gen_loss = self._generator_loss(real_a, real_b, fake_a, fake_b)
        self._update(tape, gen_loss, self.generator_variables, self.g_optimizer)  # 2.

        fake_a = self.pool_a(tf.stop_gradient(fake_a))  # 3.
        fake_b = self.pool_b(tf.stop_gradient(fake_b))
        with tf.GradientTape() as tape:
            d_a_loss = self._discriminator_loss(self.discriminator_a, real_a, fake_a, "d_a")
            d_b_loss = self._discriminator_loss(self.discriminator_b, real_b, fake_b, "d_b")
            d_loss = d_a_loss + d_b_loss  # one optimizer for both (their variables are disjoint)
        self._update(tape, d_loss, self.discriminator_variables, self.d_optimizer)
        self.trained_steps.assign_add(1)
        return self._results(self._trackers)

    def _generator_loss(self, real_a, real_b, fake_a, fake_b):
        """Eq. 3 (+ identity): both adversarial terms, both cycles, both identities."""
        g_gan = losses.generator_adversarial_loss(self.discriminator_b(fake_b, training=True), self.gan_mode)
        f_gan = losses.generator_adversarial_loss(self.discriminator_a(fake_a, training=True), self.gan_mode)
        cycle_a = losses.cycle_consistency_loss(real_a, self.generator_f(fake_b, training=True))
        cycle_b = losses.cycle_consistency_loss(real_b, self.generator_g(fake_a, training=True))
        total = g_gan + f_gan + self.lambda_cycle * (cycle_a + cycle_b)
        terms = {"g_gan_loss": g_gan, "f_gan_loss": f_gan, "cycle_a_loss": cycle_a, "cycle_b_loss": cycle_b}
        if self.lambda_identity > 0:
            identity_b = losses.identity_loss(real_b, self.generator_g(real_b, training=True))
            identity_a = losses.identity_loss(real_a, self.generator_f(real_a, training=True))
            total += self.lambda_identity * self.lambda_cycle * (identity_a + identity_b)
            terms.update(identity_a_loss=identity_a, identity_b_loss=identity_b)
        self._record(self._trackers, {**terms, "gen_loss": total})
        return total

    def _discriminator_loss(self, discriminator, real, fake, prefix):
        """L_D of D_A or D_B (`prefix` "d_a" or "d_b" names its logs and keys its GP draws)."""
        return self._discriminator_terms(discriminator, real, fake, prefix, prefix)[0]

    # ---------------------------------------------------------------- test step
    def test_step(self, data):
        """Validation: both cycle-consistency errors with the generators in inference mode."""
        real_a, real_b, _ = keras.utils.unpack_x_y_sample_weight(data)
        rec_a = self.generator_f(self.generator_g(real_a, training=False), training=False)
        rec_b = self.generator_g(self.generator_f(real_b, training=False), training=False)
        return self._record(self._val_trackers, {"reconstruction_a_l1": losses.cycle_consistency_loss(real_a, rec_a),
                                                 "reconstruction_b_l1": losses.cycle_consistency_loss(real_b, rec_b)})

    # ------------------------------------------------------------ serialization
    @classmethod
    def from_preset(cls, preset, **kwargs):
        """An uncompiled CycleGAN around the PyTorch reference's generators, with fresh discriminators.

        A preset name gives G (A is its input domain) and, where the reference publishes it, F (horse2zebra's
        zebra2horse: the same dataset, the other way; else a fresh one); a reference CycleGAN `checkpoints/NAME/`
        folder gives all four networks and the options as the config.

        Args:
            preset: str or path-like. A preset name ("horse2zebra"; see `tfgan_translate.reference.preset_names()`),
                downloaded once into a cache; a generator's `.pth` file (G); or a reference run folder.
            **kwargs: `epoch` (with a folder), `cache_dir` (with a name) and `CycleGANConfig` fields.

        Example:

        >>> model = CycleGAN.from_preset("horse2zebra")  # doctest: +SKIP
        >>> zebras, horses = model.translate(horses, "AtoB"), model.translate(zebras, "BtoA")  # doctest: +SKIP
        """
        from tfgan_translate.reference.loader import build

        return build(preset, cyclegan_from_config, model="cyclegan", **kwargs).model


def cyclegan_from_config(config) -> CycleGAN:
    """Builds the four networks and the CycleGAN model that a `CycleGANConfig` describes (uncompiled)."""
    c_a, c_b = config.input_channels, config.output_channels
    g = config_generator(config, c_a, c_b, name="generator_g")
    f = config_generator(config, c_b, c_a, name="generator_f")
    d_a = config_discriminator(config, c_a, name="discriminator_a")
    d_b = config_discriminator(config, c_b, name="discriminator_b")
    return CycleGAN(g, f, d_a, d_b, **CycleGAN.options_of(config), name="cyclegan")
