"""The memory budget and the tile plan: what one pass needs, what an image may take, the smallest input.

**The budget** (`--memory-budget`, `memory_budget`, MiB; `DEFAULT_MEMORY_BUDGET_MB`) bounds two things:

1. *One network pass* (`activation_bytes`): the generator's layers are walked in order on a small probe size,
   keeping each output until its last consumer has run; the largest total held at once, at 4 bytes a value,
   scaled by the pixel count and by `WORKSPACE_FACTOR` (what convolution kernels allocate on top, measured: a
   resnet_9blocks tile peaks at about 1.7x the held outputs, a unet_256 tile at 1.3x) is the estimate.
   `plan_tile` finds the largest tile whose estimate fits the budget, then the smallest tile needing no more
   tiles than it.
2. *The image itself* (`image_too_large`): an image file is decoded whole, so its decoded
   pixels, `IMAGE_BYTES_PER_VALUE` = 5 bytes a value (the 8-bit value and its float32 copy, which the
   network reads) in the generator's input channels, must fit the budget too. `translate` reads every
   input's width and height from its header (nothing decoded) before anything else, and refuses a larger
   image with one line naming the file, its size and `--memory-budget` (``--skip-bad-files`` skips and counts
   it): at the default 256 MiB, 17.9 million RGB pixels (a 4096 x 4096 photo fits; 6000 x 4000 needs
   ``--memory-budget 344``). This is a rule, not a measurement: decoding holds TensorFlow's intermediates
   for a moment, and translating holds the output (and a padded copy when the size rule pads) as float32
   too, so the image's share of the peak is up to about three times the rule's figure (measured: 620 MiB
   for a 4096 x 4096 RGB PNG, whose rule figure is 240 MiB); one pass, TensorFlow
   and the weights (0.5-0.8 GB) come on top. What it guarantees: memory grows with the budget, never with
   what a small file claims to hold (a 140 KB PNG of 12000 x 12000 px is refused, not decoded to 7 GB).

**The smallest input** (`minimum_size`): a multiple of the size rule at which every layer has pixels to work
on, asked of the network's own layers. A reflection pad of p needs more than p rows and columns where it sits
(TensorFlow's MirrorPad refuses otherwise): the ResNet generator's stem pad of 3 needs 4 px, and the 1-px pads
of its residual blocks need 2 px at the bottleneck, a quarter of the input: 8 px. A U-Net runs at its size
rule (1 x 1 at the bottleneck). Images are padded up to it (`inference.translate_array`), and neither a tile
(`plan_tile`, `check_tiling`) nor the statistics pass (`statistics_size`) is ever smaller.
"""

from __future__ import annotations

import math
import weakref

import keras
import numpy as np
from keras import tree

from tfgan_translate.data.checks import is_int
from tfgan_translate.networks import ReflectionPadding2D, size_multiple

MIB = 2**20
# MiB one network pass may use (tiles are sized to fit), and the most an image's decoded pixels may take
# (IMAGE_BYTES_PER_VALUE a value: larger images are refused before decoding). See the module docstring.
DEFAULT_MEMORY_BUDGET_MB = 256
IMAGE_BYTES_PER_VALUE = 1 + 4  # the decoded 8-bit value and its float32 copy
TOO_LARGE = "too large for the memory budget"  # how `image_too_large`'s reasons begin
WORKSPACE_FACTOR = 2.0  # measured peak / held layer outputs: 1.3 (unet_256) to 1.7 (resnet_9blocks), rounded up
_PROBE = 256  # probe height and width for the estimate (rounded up to the size rule)
_MAX_MINIMUM_STEPS = 64  # minimum_size tries sizes up to 64 times the size rule


# ------------------------------------------------------------------ the smallest input
def _output_shapes(generator: keras.Model, size: int) -> tuple[list, list]:
    """(the generator's layers, their output shapes) on a 1 x `size` x `size` input; ValueError: a layer refuses it."""
    layers = [layer for layer in generator.layers if not isinstance(layer, keras.layers.InputLayer)]
    probe = keras.Model(generator.inputs, [layer.output for layer in layers])
    return layers, probe.compute_output_shape((1, size, size, generator.input_shape[-1]))


def _layer_minimum(generator: keras.Model, multiple: int) -> int:
    """The smallest multiple of `multiple` at which every layer's output has pixels and every reflection pad
    has more rows and columns than it adds (its output more than three times the pad)."""
    for size in range(multiple, (_MAX_MINIMUM_STEPS + 1) * multiple, multiple):
        try:
            layers, shapes = _output_shapes(generator, size)
        except ValueError:  # a layer refuses the size outright
            continue
        pads_fit = all(min(shape[1:3]) > 3 * layer.padding for layer, shape in zip(layers, shapes, strict=True)
                       if isinstance(layer, ReflectionPadding2D))  # input > pad, as output = input + 2 * pad
        if pads_fit and all(min(shape[1:3]) >= 1 for shape in shapes):
            return size
    return _MAX_MINIMUM_STEPS * multiple


_ESTIMATES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> {(function, *args): value}


def _cached(function, model: keras.Model, *args):
    """`function(model, *args)`, computed once per model and arguments (forgotten with the model)."""
    cache = _ESTIMATES.setdefault(model, {})
    if (function, *args) not in cache:
        cache[(function, *args)] = function(model, *args)
    return cache[(function, *args)]


def _functional(generator) -> keras.Model | None:
    """The functional Keras model whose layers stand for `generator`'s in the estimates, or None for anything else
    (an export, a plain function).

    For a copy `inference_mode.inference_generator` made (its attribute `_inference_source`), that is the trained
    generator it runs, with the same shapes: the estimates walk each layer's input and output, which for a layer
    the copy shares belong to the graph it was first called in. Else `generator` itself."""
    model = getattr(generator, "_inference_source", (generator,))[0]
    return model if isinstance(model, keras.Model) and getattr(model, "inputs", None) else None


def minimum_size(generator, multiple: int | None = None) -> int:
    """The smallest height and width `generator` runs at: a multiple of its size rule (see the module docstring).

    Args:
        generator: a `UNetGenerator` / `ResNetGenerator` (or any functional Keras model: its layers are asked);
            or a callable with an int `minimum_size` (an `ExportedModel`: its metadata.json's); any other
            callable runs at `multiple`.
        multiple: int or None. The size rule; None asks the generator (`networks.size_multiple`).

    Returns:
        int. 8 for a ResNet generator, `2 ** depth` for a U-Net.

    Example:

    >>> minimum_size(ResNetGenerator(n_blocks=9)), minimum_size(UNetGenerator(depth=5))  # doctest: +SKIP
    (8, 32)
    """
    multiple = size_multiple(generator) if multiple is None else int(multiple)
    model = _functional(generator)
    if model is not None:
        return _cached(_layer_minimum, model, multiple)
    own = getattr(generator, "minimum_size", None)
    own = own if is_int(own) else multiple
    return max(multiple, -(-own // multiple) * multiple)


# ------------------------------------------------------------------ the image within the budget
def image_too_large(width: int, height: int, memory_budget: float | None, channels: int | None = None,
                    file_channels: int = 3) -> str | None:
    """Why a `width` x `height` image is refused under `memory_budget` MiB (one line), or None when it fits.

    Args:
        width, height: int. The image's size, read from its header.
        memory_budget: float or None. MiB; None: no bound.
        channels: int or None. The generator's input channels; None (not known yet, e.g. before the model is
            loaded): decided on one channel, the least the image can take, so nothing is refused that the
            generator's channels would allow; the figures shown (and the budget advised) then count
            `file_channels`, at least 3 (RGB, the generators' default), so one raise of the budget is enough.
        file_channels: int. The file's own channels, for the figures shown when `channels` is None.

    Returns:
        None, or "too large for the memory budget: ..." naming the size, the MiB needed and `--memory-budget`.
    """
    per_channel = int(width) * int(height) * IMAGE_BYTES_PER_VALUE  # its 8-bit values and their float32 copy
    if memory_budget is None or per_channel * (channels or 1) <= memory_budget * MIB:
        return None
    shown = channels or max(3, int(file_channels))
    need = per_channel * shown / MIB
    return (f"{TOO_LARGE}. Received: a {width}x{height} (width x height) image, about {need:.0f} MiB decoded "
            f"({shown} channel(s), {IMAGE_BYTES_PER_VALUE} bytes a value: 8 bits and a float32 copy). Expected at "
            f"most --memory-budget {memory_budget:g} MiB (memory_budget= from Python): pass --memory-budget "
            f"{math.ceil(need)} or more, or downscale the image; it was not decoded")


# ------------------------------------------------------------------ one pass within the budget
def _probe_bytes_per_pixel(generator: keras.Model) -> float:
    """Peak bytes per input pixel of one pass: the layer outputs held at once, in layer order, times the factor."""
    multiple = getattr(generator, "size_multiple", 1)
    size = max(_PROBE, -(-_PROBE // multiple) * multiple)
    layers, shapes = _output_shapes(generator, size)
    last_use = {id(tensor): i for i, layer in enumerate(layers) for tensor in tree.flatten(layer.input)}
    held, peak = {id(t): size * size * generator.input_shape[-1] for t in generator.inputs}, 0
    for i, layer in enumerate(layers):
        held[id(layer.output)] = int(np.prod(shapes[i]))
        peak = max(peak, sum(held.values()))
        for tensor in tree.flatten(layer.input):
            if last_use[id(tensor)] == i:
                held.pop(id(tensor), None)
    return 4.0 * WORKSPACE_FACTOR * peak / (size * size)


def activation_bytes(generator, height: int, width: int) -> int | None:
    """Estimated peak memory of one pass of `generator` on a `height` x `width` image (see the module docstring).

    Args:
        generator: a functional `keras.Model` (a `UNetGenerator` or `ResNetGenerator`); anything else (an
            export, a plain function) cannot be measured.
        height, width: int. The size the generator is run at.

    Returns:
        Bytes, or None when `generator` is not a functional Keras model.

    Example:

    >>> activation_bytes(ResNetGenerator(n_blocks=9), 1024, 1024) / 2**20  # about 1050 MiB  # doctest: +SKIP
    """
    model = _functional(generator)
    return None if model is None else int(_cached(_probe_bytes_per_pixel, model) * height * width)


def plan_tile(generator, height: int, width: int, multiple: int, memory_budget: int | None,
              overlap: int | None = None) -> int | None:
    """The tile size for an image the size rule pads to `height` x `width`, or None when no tiling is needed.

    Args:
        generator: the generator (see `activation_bytes`).
        height, width: int. Multiples of `multiple`, at least `minimum_size(generator, multiple)`.
        multiple: int. The size rule.
        memory_budget: int or None. Bytes one pass may use; None: never tile on our own.
        overlap: int or None. The overlap asked for (None: `default_overlap` of each tile size). Defaults to None.

    Returns:
        None when the whole image fits `memory_budget` (or nothing can be estimated); else the smallest
        multiple of `multiple` that needs no more tiles than the largest tile that fits the budget (at least
        the generator's `minimum_size`, however small the budget): as few tiles as the budget allows, no
        larger than they need to be.
    """
    need = None if memory_budget is None else activation_bytes(generator, height, width)
    if need is None or need <= memory_budget:
        return None
    smallest = minimum_size(generator, multiple)
    largest = max(smallest, int(math.sqrt(memory_budget * height * width / need)) // multiple * multiple)

    def count(tile):
        step = default_overlap(tile) if overlap is None else min(overlap, tile - 1)
        return len(tile_starts(height, tile, step, multiple)) * len(tile_starts(width, tile, step, multiple))

    fewest = count(largest)
    return next(tile for tile in range(smallest, largest + 1, multiple) if count(tile) <= fewest)


def statistics_size(generator, height: int, width: int, multiple: int, memory_budget: int | None) -> tuple[int, int]:
    """The size of the statistics pass: the image's own if it fits `memory_budget`, else the largest multiples of
    `multiple` (at least the generator's `minimum_size`) of the same aspect that fit."""
    need = activation_bytes(generator, height, width)
    if memory_budget is None or need is None or need <= memory_budget:
        return height, width
    scale = math.sqrt(memory_budget / need)
    smallest = minimum_size(generator, multiple)
    return tuple(max(smallest, int(side * scale) // multiple * multiple) for side in (height, width))


# ------------------------------------------------------------------ the grid
def tile_starts(length: int, tile: int, overlap: int, align: int) -> list[int]:
    """Where the tiles of one axis start: evenly spaced multiples of `align` from 0 to `length - tile`.

    As few tiles as keep every overlap at least `overlap`, spread evenly (no thin last step).

    Args:
        length: int. The (padded) image's height or width, a multiple of `align`.
        tile: int. Tile size, a multiple of `align`; a tile no smaller than `length` gives one tile at 0.
        overlap: int. Least overlap between neighbours, 0 <= overlap < tile.
        align: int. Starts are multiples of it.

    Returns:
        Increasing starts; the first is 0 and the last is `length - tile` (when `tile < length`).

    Example:

    >>> tile_starts(1000, 256, 32, 4)
    [0, 184, 372, 556, 744]
    """
    if tile >= length:
        return [0]
    step = max(align, (tile - overlap) // align * align)
    gaps = -(-(length - tile) // step)
    return [i * (length - tile) // gaps // align * align for i in range(gaps + 1)]


def default_overlap(tile: int) -> int:
    """`tile // 4`, at least 32 px (less than the tile)."""
    return min(tile - 1, max(32, tile // 4))  # 128 px for 512-px tiles


def check_memory_budget(memory_budget) -> None:
    """Raises ValueError unless `memory_budget` (MiB) is None or a finite positive number."""
    if memory_budget is not None and (isinstance(memory_budget, bool) or not isinstance(memory_budget, (int, float))
                                      or not 0 < memory_budget < float("inf")):
        raise ValueError(f"Invalid value for `memory_budget`. Received: memory_budget={memory_budget!r}. Expected "
                         "a positive number of MiB, or None to tile only when `tile` is given.")


def check_tiling(tile, overlap, multiple: int, label: str = "generator", minimum: int | None = None) -> None:
    """Raises ValueError unless `tile` is None or a multiple of `multiple` of at least `minimum` (the generator's
    `minimum_size`; None: `multiple`), and `overlap` is None or an integer in [0, tile) (>= 0 without a tile)."""
    smallest = multiple if minimum is None else max(multiple, minimum)
    if tile is not None and (not is_int(tile) or tile < smallest or tile % multiple):
        least = f" of at least {smallest} (its smallest input)" if smallest > multiple else ""
        raise ValueError(f"Invalid value for `tile`. Received: tile={tile!r}. Expected a multiple of {multiple}"
                         f"{least}, this {label}'s size rule (e.g. {multiple * max(1, 512 // multiple)}).")
    if overlap is not None and (not is_int(overlap) or overlap < 0 or (tile is not None and overlap >= tile)):
        limit = f"in [0, {tile}) (less than the tile)" if tile is not None else ">= 0"
        raise ValueError(f"Invalid value for `overlap`. Received: overlap={overlap!r}. Expected an integer {limit}.")
