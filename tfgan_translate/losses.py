"""The loss terms of pix2pix, CycleGAN and CUT, each written once.

Discriminators end without a sigmoid, so every adversarial loss takes logits.
All functions return scalar float32 tensors: the mean over every element
(every patch logit, every pixel), as the reference implementation does.

GAN modes (reference `GANLoss`):

- ``vanilla``: the original GAN objective (Goodfellow et al. 2014) as binary
  cross-entropy on logits. D maximises log D(y) + log(1 - D(G(x))); G
  minimises -log D(G(x)) (the non-saturating form).
- ``lsgan``: least squares (Mao et al. 2017): D pushes real logits to 1 and
  fake ones to 0 with a squared error, G pushes fake logits to 1. CycleGAN's
  default.
- ``wgangp``: Wasserstein loss with gradient penalty (Gulrajani et al. 2017):
  D minimises mean(D(fake)) - mean(D(real)) + lambda_gp * GP, G minimises
  -mean(D(fake)).

Example:

>>> import numpy as np
>>> real, fake = np.array([2.0, 1.0]), np.array([-1.0, 0.5])
>>> d_real, d_fake = discriminator_losses(real, fake, "lsgan")
>>> float(d_real), float(d_fake)  # mean((r - 1)^2), mean(f^2)
(0.5, 0.625)
"""

import tensorflow as tf

from tfgan_translate.choices import GAN_MODES, check_choice


def check_gan_mode(gan_mode: str) -> str:
    """Returns `gan_mode`, or raises ValueError naming the allowed modes."""
    check_choice("gan_mode", gan_mode, GAN_MODES)
    return gan_mode


def _f32(x) -> tf.Tensor:
    return tf.cast(x, tf.float32)


def adversarial_loss(logits, target_is_real: bool, gan_mode: str) -> tf.Tensor:
    """The GAN loss of `logits` judged against "real" (True) or "fake" (False).

    Args:
        logits: tensor of any shape, raw discriminator outputs (no sigmoid).
        target_is_real: bool. Whether the logits should say "real".
        gan_mode: str. One of "vanilla", "lsgan", "wgangp".

    Returns:
        Scalar float32: BCE-with-logits against 1/0 (vanilla), mean squared
        distance to 1/0 (lsgan), or -mean / +mean of the logits (wgangp).
    """
    check_gan_mode(gan_mode)
    logits = _f32(logits)
    if gan_mode == "wgangp":
        return -tf.reduce_mean(logits) if target_is_real else tf.reduce_mean(logits)
    target = tf.ones_like(logits) if target_is_real else tf.zeros_like(logits)
    if gan_mode == "lsgan":
        return tf.reduce_mean(tf.square(logits - target))
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=target, logits=logits))


def discriminator_losses(real_logits, fake_logits, gan_mode: str) -> tuple[tf.Tensor, tf.Tensor]:
    """D's two terms: (loss on real, loss on fake); `discriminator_loss` halves their sum.

    pix2pix Eq. (1) / CycleGAN Eq. (1): D is trained to call real pairs real
    and generated ones fake.
    """
    return adversarial_loss(real_logits, True, gan_mode), adversarial_loss(fake_logits, False, gan_mode)


def discriminator_loss(real_logits, fake_logits, gan_mode: str) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """D's loss as both models train it: (0.5 * (loss_real + loss_fake), loss_real, loss_fake).

    The reference halves D's objective so that D learns at half G's rate (pix2pix Sec. 3.3: "we divide
    the objective by 2 while optimizing D"); CycleGAN does the same.
    """
    loss_real, loss_fake = discriminator_losses(real_logits, fake_logits, gan_mode)
    return 0.5 * (loss_real + loss_fake), loss_real, loss_fake


def generator_adversarial_loss(fake_logits, gan_mode: str) -> tf.Tensor:
    """G's adversarial term: make D call its outputs real."""
    return adversarial_loss(fake_logits, True, gan_mode)


def gradient_penalty(discriminator, real, fake, condition=None, *, training: bool = True, seed=None) -> tf.Tensor:
    """WGAN-GP penalty E[(||grad_z D(z)||_2 - 1)^2] at random interpolates z.

    Args:
        discriminator: callable mapping a (B, H, W, C) batch to logits.
        real: (B, H, W, C_img) real images.
        fake: (B, H, W, C_img) generated images (gradients to G are not needed).
        condition: optional (B, H, W, C_cond) input prepended to the channels
            of each image, for a conditional discriminator. It is not interpolated.
        training: forwarded to the discriminator.
        seed: optional shape-[2] int tensor for a stateless draw of the
            interpolation weights (the models pass (their seed, step) so that
            a resumed run draws the same weights). None: `tf.random.uniform`.

    Returns:
        Scalar float32 penalty (multiply by lambda_gp, 10 in the paper).
    """
    real, fake = _f32(real), _f32(tf.stop_gradient(fake))
    alpha_shape = [tf.shape(real)[0], 1, 1, 1]
    if seed is None:
        alpha = tf.random.uniform(alpha_shape, dtype=tf.float32)
    else:
        alpha = tf.random.stateless_uniform(alpha_shape, seed=seed, dtype=tf.float32)
    mixed = alpha * real + (1.0 - alpha) * fake
    with tf.GradientTape() as tape:
        tape.watch(mixed)
        d_in = mixed if condition is None else tf.concat([_f32(condition), mixed], axis=-1)
        logits = discriminator(d_in, training=training)
    grads = tf.reshape(tape.gradient(logits, mixed), [tf.shape(real)[0], -1])
    norms = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=1) + 1e-16)
    return tf.reduce_mean(tf.square(norms - 1.0))


def l1_loss(target, prediction) -> tf.Tensor:
    """Mean absolute error ||y - G(x)||_1 averaged over every pixel (pix2pix Eq. 3).

    Also the building block of CycleGAN's cycle-consistency and identity terms.
    """
    return tf.reduce_mean(tf.abs(_f32(target) - _f32(prediction)))


def cycle_consistency_loss(real, reconstructed) -> tf.Tensor:
    """One direction of CycleGAN's cycle loss (Eq. 2): ||F(G(a)) - a||_1 or ||G(F(b)) - b||_1.

    Args:
        real: (B, H, W, C) images of one domain.
        reconstructed: (B, H, W, C) the same images after the round trip.
    """
    return l1_loss(real, reconstructed)


def identity_loss(real, mapped) -> tf.Tensor:
    """CycleGAN's identity term (Sec. 5.2): ||G(b) - b||_1 or ||F(a) - a||_1.

    Pulls a generator toward the identity on images already in its output
    domain (keeps colours for painting <-> photo). The model weights it by
    lambda_identity * lambda_cycle.
    """
    return l1_loss(real, mapped)


def patch_nce_loss(queries, keys, temperature: float = 0.07) -> tf.Tensor:
    """CUT's PatchNCE loss per query patch (Park et al. 2020, Eq. 2 and 4), negatives from the same image.

    For image b and patch i, with unit vectors q = queries[b, i] and keys k = keys[b, :]:

        loss[b, i] = -log softmax([q . k_i, q . k_j for j != i] / temperature)[0]

    the cross-entropy of picking the key of the same location (the positive) among the keys of every other
    sampled location of the same image (the negatives). As the authors' code does, the negatives' logits are
    the full row of q . k_j with the diagonal j = i set to -10 before the division by the temperature (so the
    positive also appears once among the negatives, at exp(-10 / T), about 0). The keys are held constant
    (`stop_gradient`): only the query side trains, as the authors detach the keys after the projection.

    Args:
        queries: (B, P, D) float tensor. P sampled patches per image of the translated image's features,
            projected and L2-normalised (`PatchProjection`).
        keys: (B, P, D) float tensor. The source image's features at the same P locations.
        temperature: float. The softmax temperature tau. Defaults to 0.07 (the paper's).

    Returns:
        (B, P) float32 per-patch losses (the models average them).

    Example:

    >>> q = tf.math.l2_normalize(tf.random.normal([2, 16, 8]), axis=-1)
    >>> patch_nce_loss(q, q).shape  # identical features: the loss is near its minimum
    TensorShape([2, 16])

    Reference: Park, Efros, Zhang, Zhu, "Contrastive Learning for Unpaired Image-to-Image Translation",
    ECCV 2020; models/patchnce.py of the authors' code.
    """
    if not temperature > 0:
        raise ValueError(f"Invalid value for argument `temperature`. Received: temperature={temperature!r}. "
                         "Expected a number > 0.")
    queries, keys = _f32(queries), tf.stop_gradient(_f32(keys))
    positive = tf.reduce_sum(queries * keys, axis=-1, keepdims=True)  # (B, P, 1): q_i . k_i
    negatives = tf.linalg.matmul(queries, keys, transpose_b=True)  # (B, P, P): q_i . k_j
    patches = tf.shape(negatives)[-1]
    negatives = tf.where(tf.eye(patches, dtype=tf.bool), tf.constant(-10.0), negatives)
    logits = tf.concat([positive, negatives], axis=-1) / temperature  # the positive is class 0
    return -tf.nn.log_softmax(logits, axis=-1)[..., 0]
