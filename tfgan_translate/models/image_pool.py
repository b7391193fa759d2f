"""History of generated images for the discriminators (Shrivastava et al. 2017)."""

from __future__ import annotations

import keras
import tensorflow as tf

from tfgan_translate.rng import counted_uniform, draw_counter, name_seed


@keras.saving.register_keras_serializable(package="tfgan_translate")
class ImagePool(keras.layers.Layer):
    """A buffer of up to `pool_size` generated images, kept in TF variables.

    CycleGAN updates each discriminator with a history of generated images
    rather than only the latest ones (Zhu et al. 2017, Sec. 4; reference
    `ImagePool`). For each image of a batch, in order:

    - while fewer than `pool_size` images are stored, store it and return it;
    - otherwise, with probability 0.5, return a uniformly chosen stored image
      and store the new one in its place; else return the new image.

    The buffer, its fill count and the random-draw counter are non-trainable
    variables, so the pool works inside a compiled `train_step` and is saved
    with the model's checkpoints; its random choices are keyed by the saved
    counter (`tfgan_translate.rng`), so a resumed run makes the same choices. Under a tf.distribute strategy only the first replica's
    updates are kept (`aggregation="only_first_replica"`).

    Args:
        pool_size: int. Images kept; 0 disables the pool (images pass through).
        image_shape: tuple (height, width, channels) of the images.

    Call arguments:
        images: (batch, height, width, channels) generated images.

    Returns:
        (batch, height, width, channels): the images D should be trained on.

    Example:

    >>> pool = ImagePool(50, (64, 64, 3))
    >>> fakes_for_d = pool(keras.random.uniform((1, 64, 64, 3)))
    """

    def __init__(self, pool_size: int = 50, image_shape=(256, 256, 3), **kwargs):
        super().__init__(**kwargs)
        if int(pool_size) < 0:
            raise ValueError(
                f"Invalid value for argument `pool_size`. Received: pool_size={pool_size}. Expected an integer >= 0."
            )
        image_shape = tuple(int(d) for d in image_shape)
        if len(image_shape) != 3 or min(image_shape) <= 0:
            raise ValueError(
                f"Invalid value for argument `image_shape`. Received: image_shape={image_shape}. "
                "Expected (height, width, channels) with positive sizes."
            )
        self.pool_size = int(pool_size)
        self.image_shape = image_shape
        if self.pool_size:
            self.images = self.add_weight(
                shape=(self.pool_size, *image_shape), initializer="zeros", trainable=False, name="images",
                dtype="float32", autocast=False, aggregation="only_first_replica",
            )
            self.count = self.add_weight(
                shape=(), initializer="zeros", trainable=False, name="count", dtype="int32",
                aggregation="only_first_replica",
            )
            self.draws = draw_counter(self)
        self.built = True

    def call(self, images):
        if not self.pool_size:
            return images
        images = tf.cast(images, tf.float32)
        batch = tf.shape(images)[0]
        buffer = self.images.value  # the tf.Variable: supports row updates

        def query_one(i, outputs):
            image = images[i]

            def store():
                buffer.scatter_update(tf.IndexedSlices(image[None], self.count.value[None]))
                self.count.assign_add(1)
                return image

            def maybe_swap():
                coin, position = tf.unstack(counted_uniform([2], name_seed(self.name), self.draws))
                swap = coin < 0.5
                index = tf.minimum(tf.cast(position * self.pool_size, tf.int32), self.pool_size - 1)

                def swap_in():
                    old = tf.identity(buffer[index])
                    with tf.control_dependencies([old]):
                        buffer.scatter_update(tf.IndexedSlices(image[None], index[None]))
                    return old

                return tf.cond(swap, swap_in, lambda: image)

            chosen = tf.cond(self.count.value < self.pool_size, store, maybe_swap)
            return i + 1, outputs.write(i, chosen)

        outputs = tf.TensorArray(tf.float32, size=batch, element_shape=self.image_shape)
        _, outputs = tf.while_loop(lambda i, _: i < batch, query_one, [tf.constant(0), outputs])
        return outputs.stack()

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"pool_size": self.pool_size, "image_shape": list(self.image_shape)})
        return config
