"""Converting a generator to TFLite (LiteRT) with builtin ops only, and running it.

Quantizations (file `generator_<name>.tflite`):

- ``"none"`` -> ``float32``: the float model as it is.
- ``"float16"``: weights stored as float16 (half the size), computed in float32
  on CPUs (the weights are dequantized at load) or float16 on GPUs.
- ``"int8"``: full-integer quantization: weights and activations int8,
  calibrated on representative images (`TFLITE_BUILTINS_INT8`). The input and
  output stay float32 in [-1, 1], with a QUANTIZE op after the input and a
  DEQUANTIZE op before the output, so every file has the same interface.

Every file runs whole in XNNPACK, LiteRT's CPU delegate (`delegation.xnnpack_report` checks it):
transposed convolutions ("same" padding, stride s) are converted as s*s
convolutions + DEPTH_TO_SPACE, reflection padding as slices + concatenations of
at most 5 inputs, test-time dropout as FLOOR of the noise
(`tflite_graph.tflite_copy`), all with the same output; in int8 files the ops
XNNPACK rejects when quantized (`FLOAT_IN_INT8`) stay float32 (selective
quantization). `subpixel=False` keeps TRANSPOSE_CONV; `xnnpack=False` makes the
files as they were before these rewrites (`benchmarks/export_bench.py --variants before`).
Only RANDOM_UNIFORM (test-time dropout on) stays outside XNNPACK.

Every model takes one image, `(1, S, S, C_in)` float32 in [-1, 1], at the fixed
size S (the training size by default), or, with `dynamic_size=True`,
`(1, H, W, C_in)` for any H, W meeting the size rule; call
`interpreter.resize_tensor_input` and `allocate_tensors` before running another
size (`TFLiteRunner` does). Only builtin ops are allowed (no Flex delegate): a
generator that would need TensorFlow ops fails to convert with a clear error.
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings

import keras
import numpy as np
import tensorflow as tf

from tfgan_translate.choices import QUANTIZATIONS
from tfgan_translate.export.savedmodel import write_archive
from tfgan_translate.export.tflite_graph import tflite_copy

log = logging.getLogger("tfgan_translate")

FILE_NAMES = {"none": "generator_float32.tflite", "float16": "generator_float16.tflite",
              "int8": "generator_int8.tflite"}
# Ops XNNPACK does not take quantized (LiteRT 2.x): an int8 file keeps them float32, with QUANTIZE / DEQUANTIZE
# around them (which XNNPACK takes), so that the graph is not split.
FLOAT_IN_INT8 = ("ADD", "RELU", "RSQRT")


def check_quantizations(quantize) -> tuple[str, ...]:
    """Normalises `quantize` (a name or a sequence of names) into a tuple without repeats."""
    names = (quantize,) if isinstance(quantize, str) else tuple(quantize)
    if not names or any(name not in QUANTIZATIONS for name in names):
        raise ValueError(f"Invalid value for argument `quantize`. Received: quantize={quantize!r}. "
                         f"Expected one or more of {list(QUANTIZATIONS)}.")
    return tuple(dict.fromkeys(names))


def convert(generator: keras.Model, quantize=("none",), *, image_size: tuple[int, int] | None,
            representative: np.ndarray | None = None, subpixel: bool = True, xnnpack: bool = True) -> dict[str, bytes]:
    """Converts `generator` to one TFLite flatbuffer per quantization.

    Args:
        generator: keras.Model. The inference copy to convert (float32, in
            its test-time mode; see `generator.inference_copy`).
        quantize: str or sequence of str from `QUANTIZATIONS`. Defaults to ("none",).
        image_size: (height, width) of the fixed input, or None for a dynamic
            height and width (batch 1 either way).
        representative: float32 array (n, h, w, C_in) in [-1, 1]: the
            calibration images for "int8" (required then), one at a time.
        subpixel: bool. Convert transposed convolutions as sub-pixel
            convolutions (same output, faster). Defaults to True.
        xnnpack: bool. The rewrites that make the file run whole in XNNPACK
            (module docstring); False only to measure what they gain. Defaults to True.

    Returns:
        {quantization: flatbuffer bytes}, in the order asked.

    Raises:
        ValueError: "int8" without representative images.
    """
    quantize = check_quantizations(quantize)
    if "int8" in quantize and (representative is None or len(representative) == 0):
        raise ValueError("quantize='int8' needs representative images (`representative_data`) to calibrate on.")
    generator = tflite_copy(generator, subpixel=subpixel, xnnpack=xnnpack)
    with tempfile.TemporaryDirectory(prefix="tfgan_tflite_") as tmp:
        # A SavedModel with exactly the input signature to convert: from_saved_model freezes its variables.
        write_archive(generator, tmp, (1, *(image_size or (None, None)), generator.input_shape[-1]))
        return {name: _convert_one(tmp, name, representative, xnnpack) for name in quantize}


def _convert_one(saved_model_dir: str, quantize: str, representative, xnnpack: bool) -> bytes:
    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantize == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif quantize == "int8":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.representative_dataset = lambda: ([image[None].astype(np.float32)] for image in representative)
    try:
        if quantize == "int8" and xnnpack:  # selective quantization: `FLOAT_IN_INT8` stay float32
            converter.target_spec.supported_ops.append(tf.lite.OpsSet.TFLITE_BUILTINS)
            options = tf.lite.experimental.QuantizationDebugOptions(denylisted_ops=list(FLOAT_IN_INT8))
            with warnings.catch_warnings():  # the debugger runs the deprecated tf.lite.Interpreter: not ours to fix
                warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated")
                return tf.lite.experimental.QuantizationDebugger(
                    converter=converter, debug_dataset=converter.representative_dataset,
                    debug_options=options).get_nondebug_quantized_model()
        return converter.convert()
    except Exception as error:  # the converter raises ConverterError and others; say what was being made
        raise ValueError(f"TFLite conversion ({quantize}) with builtin ops only failed: {error}") from error


class TFLiteRunner:
    """Runs a generator `.tflite` on float32 NHWC batches in [-1, 1], one image at a time.

    Args:
        model: str, Path or bytes. A `.tflite` file or its contents.
        num_threads: int or None. CPU threads; None uses every core.
        delegate: bool. Apply LiteRT's default XNNPACK delegate. Defaults to True.
        size: (height, width) or None. For a dynamic-size model, the size to allocate the tensors at
            (else at the first call). Defaults to None.

    Call arguments:
        batch: float32 array `(n, H, W, C_in)` in [-1, 1]. For a fixed-size model H, W
            must be its size; a dynamic one is resized to each new H, W.

    Returns:
        float32 array `(n, H, W, C_out)` in [-1, 1].

    Example:

    >>> run = TFLiteRunner("exports/facades/generator_float32.tflite")  # doctest: +SKIP
    >>> y = run(np.zeros((1, 256, 256, 3), np.float32))  # doctest: +SKIP
    """

    def __init__(self, model, num_threads: int | None = None, *, delegate: bool = True, size=None):
        source = {"model_content": bytes(model)} if isinstance(model, bytes | bytearray) else {"model_path": str(model)}
        try:
            from ai_edge_litert import interpreter as module
        except ImportError:  # pragma: no cover - the `export` extra installs ai-edge-litert
            log.warning("ai_edge_litert is not installed (pip install 'tfgan_translate[export]'); "
                        "using the deprecated tf.lite.Interpreter.")
            from tensorflow.lite.python import interpreter as module
        if not delegate:
            source["experimental_op_resolver_type"] = module.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        self.interpreter = module.Interpreter(**source, num_threads=num_threads or os.cpu_count() or 1)
        self._input = self.interpreter.get_input_details()[0]
        dynamic = bool(np.any(self._input["shape_signature"][1:3] < 0))
        self.image_size = None if dynamic else tuple(int(v) for v in self._input["shape"][1:3])
        self.input_channels = int(self._input["shape"][3])
        self._shape = None if dynamic else tuple(self._input["shape"])
        if not dynamic:
            self.interpreter.allocate_tensors()
        elif size is not None:
            self._prepare((1, *size, self.input_channels))

    def _prepare(self, shape) -> None:
        if shape == self._shape:
            return
        if self.image_size is not None:
            raise ValueError(f"This TFLite model takes images of {self.image_size[0]}x{self.image_size[1]} "
                             f"(height x width), got {shape[1]}x{shape[2]}.")
        self.interpreter.resize_tensor_input(self._input["index"], list(shape), strict=True)
        self.interpreter.allocate_tensors()
        self._shape = shape

    def __call__(self, batch, training: bool = False) -> np.ndarray:
        batch = np.asarray(batch, np.float32)
        if batch.ndim != 4 or batch.shape[-1] != self.input_channels:
            raise ValueError(f"Expected a (batch, height, width, {self.input_channels}) array, got {batch.shape}.")
        outputs = []
        for image in batch:
            self._prepare((1, *image.shape))
            self.interpreter.set_tensor(self._input["index"], image[None])  # float32 in and out, every precision
            self.interpreter.invoke()
            outputs.append(self.interpreter.get_tensor(self.interpreter.get_output_details()[0]["index"])[0])
        return np.stack(outputs)


__all__ = ["FILE_NAMES", "FLOAT_IN_INT8", "QUANTIZATIONS", "TFLiteRunner", "check_quantizations", "convert"]
