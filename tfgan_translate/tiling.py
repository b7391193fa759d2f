"""Translating an image in overlapping tiles: any size in bounded memory, without seams.

`translate_tiled(generator, image, tile=..., overlap=...)` runs the generator tile by tile and blends:

1. **Grid.** Tiles are `tile` x `tile` (a multiple of the generator's size rule, `size_multiple`). They start
   on multiples of the size rule, the network's total stride, so every tile samples the image on the grid a
   single whole-image pass uses: away from its borders a tile computes what that pass computes. As few tiles
   as keep every overlap at least `overlap` pixels are spread evenly from edge to edge (the overlap grows to
   keep the starts aligned).
2. **Blend.** Each tile's output is weighted by a raised-cosine (Hann) ramp across every overlap it shares
   with a neighbour, cos² down on one side and sin² up on the other, so the weights sum to 1 and nothing
   steps anywhere; the pixels nearest a tile's border, which its padding disturbs, count least. At the
   image's edges the weight is 1. Weights are separable (row weight x column weight).
3. **Statistics.** Instance normalisation (CycleGAN's ResNet default) normalises each channel by the mean and
   variance of what it sees, so tiles normalised on their own would differ in colour. A first pass runs the
   generator once on the whole image, with each `InstanceNormalization` recording its per-channel statistics;
   the tile pass then normalises with those, fixed, so every tile agrees. When the whole image does not fit the
   memory budget, the first pass sees it downscaled (area average) to the largest size that fits: the
   statistics of the whole scene, slightly smoothed (high-frequency detail lost in the downscale lowers the
   variance of the first layers a little). Batch norm on each image's own statistics (the pix2pix paper's test
   protocol, `inference_mode.ImageStatisticsNormalization`) is instance norm with batch norm's scale and offset,
   and gets the whole image's statistics the same way; batch norm on its moving statistics is the same for every
   tile already. The generator itself is not modified: the passes run on clones sharing its layers.

**Memory** (`tfgan_translate.tiling_plan`): `activation_bytes` estimates
one pass from the generator's layers, `plan_tile` sizes tiles to `memory_budget`, never below the generator's
smallest input (`minimum_size`: 8 px for a ResNet generator, whose reflection pads need more pixels than they
add), and the budget bounds the decoded image too (`image_too_large`). The image's own buffers (input and
output, 4 bytes per value each), TensorFlow and the weights come on top of one pass.

Example:

>>> g = ResNetGenerator(n_blocks=9)  # doctest: +SKIP
>>> y = translate_tiled(g, x, tile=512, overlap=64)  # x: (4096, 4096, 3) in [-1, 1]  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import weakref

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from tfgan_translate import tiling_plan
from tfgan_translate.networks import InstanceNormalization, size_multiple
from tfgan_translate.tiling_plan import DEFAULT_MEMORY_BUDGET_MB, MIB

log = logging.getLogger("tfgan_translate")

# ------------------------------------------------------------------ grid and window
def ramp(length: int) -> np.ndarray:
    """The rising half of a Hann window over `length` samples: sin² from near 0 to near 1; 1 - ramp is cos².

    Sampled at the centres of the pixels, so no weight is exactly 0 or 1 and `ramp + ramp[::-1] == 1`.
    """
    return np.sin(0.5 * np.pi * (np.arange(length) + 0.5) / length) ** 2


def axis_weights(starts: list[int], tile: int, length: int) -> list[np.ndarray]:
    """Each tile's 1-D weights along one axis: a Hann ramp over each overlap with a neighbour, 1 elsewhere.

    Neighbours' ramps are complementary over their whole overlap (cos² + sin² = 1); where a pixel is covered
    by more than two tiles (an overlap above half a tile), the weights are divided by their sum. Either way
    the weights of the tiles covering a pixel sum to 1. The tiles cover `min(tile, length)` pixels each.
    """
    extent = min(tile, length)
    weights, total = [], np.zeros(max(starts) + extent)
    for i, start in enumerate(starts):
        w = np.ones(extent, np.float64)
        if i > 0:
            shared = starts[i - 1] + extent - start
            w[:shared] = ramp(shared)
        if i + 1 < len(starts):
            shared = start + extent - starts[i + 1]
            w[extent - shared:] *= 1.0 - ramp(shared)
        weights.append(w)
        total[start:start + extent] += w
    return [(w / total[start:start + extent]).astype(np.float32) for start, w in zip(starts, weights, strict=True)]


# ------------------------------------------------------------------ whole-image instance-norm statistics
class _WholeImageInstanceNormalization(InstanceNormalization):
    """Instance norm with one set of per-channel statistics for the whole image: the statistics pass (`record`)
    stores those it computes (over the batch and the plane) in `statistics`, two variables (mean, variance)
    shared by the two passes, and the tile pass normalises with them."""

    def __init__(self, source: InstanceNormalization, statistics: tuple, record: bool, **kwargs):
        super().__init__(**kwargs)
        # Kept out of Keras' tracking: the source layer's scale and offset are used (not copied), and the
        # statistics are shared by the two passes.
        object.__setattr__(self, "_source", source)
        object.__setattr__(self, "_statistics", statistics)
        self.record = record

    def call(self, inputs, training=None, mask=None):  # `mask`: a batch norm's call argument, in its place
        x = ops.cast(inputs, "float32")
        mean, variance = self._statistics
        if self.record:
            mean, variance = ops.moments(x, axes=(0, 1, 2))  # over the batch and the plane
            self._statistics[0].assign(mean)
            self._statistics[1].assign(variance)
        y = (x - mean) * ops.rsqrt(variance + self.epsilon)
        if self.scale:
            y = y * ops.cast(self._source.gamma, "float32")
        if self.center:
            y = y + ops.cast(self._source.beta, "float32")
        return ops.cast(y, self.compute_dtype)


class _Tiler:
    """The compiled passes of one generator: whole images, and for instance norm the statistics and tile passes.

    Compiled with `tf.function`, which frees each layer's output once its consumers have run (an eager call
    of a functional model keeps every output until the end: 15x the memory for resnet_9blocks).
    """

    def __init__(self, generator):
        self.pool = None
        if not isinstance(generator, keras.Model):
            self.whole = self.tile = lambda batch: np.asarray(generator(batch, training=False))
            return
        self.whole = self.tile = _compiled(generator)
        # Instance norm, or batch norm on each image's statistics (a subclass): given whole-image statistics.
        statistics = {layer.name: (tf.Variable(tf.zeros([layer.output.shape[-1]]), trainable=False),
                                   tf.Variable(tf.ones([layer.output.shape[-1]]), trainable=False))
                      for layer in generator.layers if isinstance(layer, InstanceNormalization)}
        if statistics:
            self.pool, self.tile = (_compiled(_clone(generator, statistics, record)) for record in (True, False))


def _clone(generator: keras.Model, statistics: dict, record: bool) -> keras.Model:
    """`generator` sharing its layers, except each layer named in `statistics`: a `_WholeImageInstanceNormalization`."""
    def clone_layer(layer):
        if layer.name not in statistics:
            return layer  # shared: the same object and weights
        return _WholeImageInstanceNormalization(layer, statistics[layer.name], record, **layer.get_config())

    image = keras.Input((None, None, generator.input_shape[-1]))
    return keras.models.clone_model(generator, input_tensors=image, clone_function=clone_layer)


def _compiled(model: keras.Model):
    call = tf.function(lambda batch: model(batch, training=False), reduce_retracing=True, autograph=False)
    return lambda batch: call(tf.constant(batch, tf.float32)).numpy()


_TILERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _tiler(generator) -> _Tiler:
    """The cached `_Tiler` of `generator`, rebuilt when one of its switches has changed since."""
    try:
        cached = _TILERS.get(generator)
    except TypeError:  # not weakly referenceable (e.g. a bound method): no cache
        return _Tiler(generator)
    # What a traced function freezes: `NoiseDropout.at_inference`, and which convolutions run accelerated
    # (`accelerate.set_winograd` replaces a layer's `convolution_op` on the layer object).
    state = tuple((layer.name, getattr(layer, "at_inference", None), "convolution_op" in vars(layer))
                  for layer in getattr(generator, "layers", ()))
    if cached is None or cached[0] != state:
        cached = _TILERS[generator] = (state, _Tiler(generator))
    return cached[1]


_logged_plans: set = set()


def translate_in_budget(generator, batch: np.ndarray, multiple: int, tile: int | None, overlap: int | None,
                        memory_budget: float | None) -> np.ndarray:
    """The generator's (H, W, C_out) output on a (1, H, W, C) batch meeting the size rule: one compiled pass, or
    tiles of `tile` (None: `plan_tile`'s, when one pass needs more than `memory_budget` MiB; logged once)."""
    height, width = batch.shape[1:3]
    budget = None if memory_budget is None else int(memory_budget * MIB)
    if tile is None:
        tile = tiling_plan.plan_tile(generator, height, width, multiple, budget, overlap)
        if tile is not None and (id(generator), height, width) not in _logged_plans:
            _logged_plans.add((id(generator), height, width))
            log.info("A %dx%d pass needs about %.0f MiB (budget %.0f MiB, --memory-budget): translating in %dx%d "
                     "tiles overlapping by %d px or more", height, width,
                     tiling_plan.activation_bytes(generator, height, width) / MIB, memory_budget, tile, tile,
                     tiling_plan.default_overlap(tile) if overlap is None else overlap)
    if tile is None or (tile >= height and tile >= width):
        return np.asarray(_tiler(generator).whole(batch))[0]
    return translate_tiled(generator, batch[0], tile=tile, overlap=overlap, multiple=multiple, memory_budget=budget)


# ------------------------------------------------------------------ the tiled pass
def translate_tiled(generator, image: np.ndarray, *, tile: int, overlap: int | None = None,
                    multiple: int | None = None,
                    memory_budget: int | None = DEFAULT_MEMORY_BUDGET_MB * MIB) -> np.ndarray:
    """Runs `generator` over `image` in overlapping `tile` x `tile` tiles, blended (see the module docstring).

    Args:
        generator: a Keras generator (or any callable on (1, H, W, C) batches, e.g. an `ExportedModel`; only a
            Keras model gets whole-image instance-norm statistics).
        image: (H, W, C) float32 in [-1, 1], H and W multiples of `multiple` and at least the generator's
            `minimum_size` (pad first: `translate_array` does).
        tile: int. Tile height and width, a multiple of `multiple`, at least the generator's `minimum_size`.
        overlap: int or None. Least overlap between neighbouring tiles, 0 <= overlap < tile; rounded up so tiles
            start on multiples of `multiple`. None: `tile // 4`, at least 32 px. Defaults to None.
        multiple: int or None. The size rule; None asks the generator. Defaults to None.
        memory_budget: int or None. Bytes the instance-norm statistics pass may use: the whole image when it
            fits, else the image downscaled to fit (`statistics_size`); None: the whole image. Defaults to
            `DEFAULT_MEMORY_BUDGET_MB` MiB.

    Returns:
        (H, W, C_out) float32 in [-1, 1].

    Raises:
        ValueError: `tile` or `overlap` out of range, or an image not padded to the size rule or smaller than
            the generator's smallest input.

    Example:

    >>> y = translate_tiled(UNetGenerator(depth=8), x, tile=1024, overlap=256)  # doctest: +SKIP
    """
    multiple = size_multiple(generator) if multiple is None else multiple
    smallest = tiling_plan.minimum_size(generator, multiple)
    height, width = image.shape[:2]
    tiling_plan.check_tiling(tile, overlap, multiple, minimum=smallest)
    if height % multiple or width % multiple or min(height, width) < smallest:
        raise ValueError(f"Invalid image: expected height and width multiples of {multiple}, at least {smallest} "
                         f"(this generator's smallest input), got {height}x{width}; pad it first "
                         "(`inference.translate_array` does).")
    overlap = tiling_plan.default_overlap(tile) if overlap is None else overlap
    tiler = _tiler(generator)
    if tiler.pool is not None:  # the statistics pass: the whole image, downscaled (area average) if it does not fit
        size = tiling_plan.statistics_size(generator, height, width, multiple, memory_budget)
        whole = image[None]
        if size != (height, width):
            log.info("Instance-norm statistics of the whole %dx%d image from a %dx%d pass (--memory-budget)",
                     height, width, *size)
            whole = tf.image.resize(whole, size, method="area").numpy()
        tiler.pool(whole)
    ys, xs = (tiling_plan.tile_starts(length, tile, overlap, multiple) for length in (height, width))
    wy, wx = axis_weights(ys, tile, height), axis_weights(xs, tile, width)
    th, tw = min(tile, height), min(tile, width)
    output = None
    for y, row_weight in zip(ys, wy, strict=True):
        for x, col_weight in zip(xs, wx, strict=True):
            result = tiler.tile(image[None, y:y + th, x:x + tw])[0]
            if output is None:
                output = np.zeros((height, width, result.shape[-1]), np.float32)
            output[y:y + th, x:x + tw] += result * np.outer(row_weight, col_weight)[..., None]  # one tile-sized product
    return output
