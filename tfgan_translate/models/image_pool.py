"""History of generated images for the discriminators (Shrivastava et al. 2017)."""

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
    counter (`tfgan_translate.rng`), so a resumed run makes the same choices.
    The decisions for a batch are made on small index tensors and the variables
    are written once per call, outside control flow, so the pool also runs
    under a tf.distribute strategy; there only the first replica's updates are
    kept (`aggregation="only_first_replica"`).

    The pool computes in float32 under every dtype policy: it stores and
    returns the generator's float32 outputs unrounded (the discriminator casts
    them to its own compute dtype). Were it to follow the global policy, a
    pool made under mixed_bfloat16 would round each image it stores to
    bfloat16, and the same pool rebuilt from a checkpoint under another global
    policy would not, so a resumed run would drift from an uninterrupted one.

    Args:
        pool_size: int. Images kept; 0 disables the pool (images pass through).
        image_shape: tuple (height, width, channels) of the images.
        **kwargs: `keras.layers.Layer` arguments (name, ...). A `dtype` other
            than float32 is refused.

    Call arguments:
        images: (batch, height, width, channels) generated images.

    Returns:
        (batch, height, width, channels): the images D should be trained on.

    Example:

    >>> pool = ImagePool(50, (64, 64, 3))
    >>> fakes_for_d = pool(keras.random.uniform((1, 64, 64, 3)))
    """

    def __init__(self, pool_size: int = 50, image_shape=(256, 256, 3), **kwargs):
        dtype = kwargs.pop("dtype", None)
        if dtype is not None and keras.dtype_policies.get(dtype).name != "float32":
            raise ValueError(f"Invalid value for argument `dtype`. Received: dtype={dtype!r}. Expected float32 (or "
                             "None): the pool keeps its images in float32 under every dtype policy.")
        super().__init__(dtype="float32", **kwargs)
        if int(pool_size) < 0:
            raise ValueError(f"Invalid value for argument `pool_size`. Received: pool_size={pool_size}. "
                             "Expected an integer >= 0.")
        image_shape = tuple(int(d) for d in image_shape)
        if len(image_shape) != 3 or min(image_shape) <= 0:
            raise ValueError(f"Invalid value for argument `image_shape`. Received: image_shape={image_shape}. "
                             "Expected (height, width, channels) with positive sizes.")
        self.pool_size = int(pool_size)
        self.image_shape = image_shape
        if self.pool_size:
            self.images = self.add_weight(shape=(self.pool_size, *image_shape), initializer="zeros", trainable=False,
                                          name="images", dtype="float32", autocast=False,
                                          aggregation="only_first_replica")
            self.count = self.add_weight(shape=(), initializer="zeros", trainable=False, name="count", dtype="int32",
                                         aggregation="only_first_replica")
            self.draws = draw_counter(self)
        self.built = True

    def call(self, images):
        if not self.pool_size:
            return images
        images = tf.cast(images, tf.float32)
        batch = tf.shape(images)[0]
        # All random draws at once, outside control flow: (coin, position) per image.
        coins, positions = tf.unstack(counted_uniform(tf.stack([batch, 2]), name_seed(self.name), self.draws),
                                      axis=1)
        indices = tf.minimum(tf.cast(positions * self.pool_size, tf.int32), self.pool_size - 1)

        # 1. Decide, image by image, on small int tensors only: `writer[r]` is the batch
        #    image that row r holds after this batch (-1: unchanged) and `source[i]` what
        #    image i returns (-1 - j: batch image j, itself or a fresher one a swap
        #    stored earlier in this batch; r >= 0: the stored row r).
        def query_one(i, count, writer, source):
            def store():
                return count + 1, tf.tensor_scatter_nd_update(writer, count[None, None], i[None]), -1 - i

            def maybe_swap():
                index = indices[i]
                returned = tf.where(writer[index] >= 0, -1 - writer[index], index)
                swapped = tf.tensor_scatter_nd_update(writer, index[None, None], i[None])
                return tf.cond(coins[i] < 0.5, lambda: (count, swapped, returned), lambda: (count, writer, -1 - i))

            count, writer, chosen = tf.cond(count < self.pool_size, store, maybe_swap)
            return i + 1, count, writer, tf.tensor_scatter_nd_update(source, i[None, None], chosen[None])

        _, count, writer, source = tf.while_loop(lambda i, *_: i < batch, query_one, [
            tf.constant(0), tf.identity(self.count.value), tf.fill([self.pool_size], -1), tf.zeros([batch], tf.int32)])

        # 2. Gather the outputs (stored rows as the call found them), then write the changed
        #    rows and the count in one update each: a variable update inside control flow
        #    cannot synchronise the replicas of a tf.distribute strategy.
        stored = tf.gather(self.images.value, tf.maximum(source, 0))
        fresh = tf.gather(images, tf.maximum(-1 - source, 0))
        outputs = tf.where(tf.reshape(source >= 0, [-1, 1, 1, 1]), stored, fresh)
        rows = tf.where(writer >= 0)[:, 0]
        with tf.control_dependencies([outputs]):
            self.images.value.scatter_update(tf.IndexedSlices(tf.gather(images, tf.gather(writer, rows)), rows))
            self.count.assign(count)
        return tf.identity(outputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "image_shape": list(self.image_shape)}
