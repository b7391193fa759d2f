"""What an exported .tflite costs on a CPU: multiply-accumulates counted from its graph, and measured latency.

- `count_macs(model)`: the multiply-accumulates of one run, summed over the CONV_2D, DEPTHWISE_CONV_2D,
  TRANSPOSE_CONV and FULLY_CONNECTED ops from their tensor shapes (the other ops' arithmetic is small beside
  them). A sub-pixel up-convolution (`export.subpixel`) counts its s*s phase convolutions: as many MACs as
  the TRANSPOSE_CONV it replaces when the kernel size is a multiple of the stride.
- `median_ms(model, threads)`: the median time of one `invoke` of LiteRT's interpreter with its default
  XNNPACK delegate, after warm-up runs (`tfgan-translate export --benchmark`, `benchmarks/export_bench.py`).
"""

from __future__ import annotations

import os
import statistics
import time

import numpy as np

from tfgan_translate.export.tflite import TFLiteRunner

# MACs of one run of the ops that hold most of a generator's arithmetic, from the shapes of the output, the
# weights (input 1; for CONV_2D (out, kh, kw, in)) and the data input.
_MACS = {
    "CONV_2D": lambda out, w, x: np.prod(out) * np.prod(w[1:]),
    "DEPTHWISE_CONV_2D": lambda out, w, x: np.prod(out) * np.prod(w[1:3]),  # w: (1, kh, kw, out)
    "TRANSPOSE_CONV": lambda out, w, x: np.prod(x) * np.prod(w[:3]),  # every input pixel times every tap
    "FULLY_CONNECTED": lambda out, w, x: np.prod(out) * w[-1],  # w: (out, in)
}


def count_macs(model, image_size: tuple[int, int] | None = None) -> int:
    """Multiply-accumulates of one run of the .tflite `model` (path or bytes), at `image_size` if dynamic.

    Example:

    >>> count_macs("exports/facades/generator_float32.tflite") / 1e9  # doctest: +SKIP
    18.2
    """
    runner = TFLiteRunner(model, 1, delegate=False, size=image_size)  # no delegate: every op keeps its shapes
    if runner.image_size is None:  # shapes computed from tensor values (SHAPE -> RESHAPE) are set by a run
        runner(np.zeros((1, *image_size, runner.input_channels), np.float32))
    interpreter = runner.interpreter
    shapes = {tensor["index"]: tensor["shape"] for tensor in interpreter.get_tensor_details()}
    total = 0
    for op in interpreter._get_ops_details():  # private, see `delegation`: the only view of the ops
        if op["op_name"] in _MACS:
            data = op["inputs"][2 if op["op_name"] == "TRANSPOSE_CONV" else 0]  # its inputs: shape, w, x
            total += int(_MACS[op["op_name"]](shapes[op["outputs"][0]], shapes[op["inputs"][1]], shapes[data]))
    return total


def median_ms(model, threads: int | None = None, image_size: tuple[int, int] | None = None, runs: int = 20,
              warmup: int = 3) -> float:
    """Median milliseconds of one run of `model` with `threads` CPU threads (None: every core), XNNPACK on."""
    runner = TFLiteRunner(model, threads, size=image_size)
    size = runner.image_size or image_size
    runner(np.random.default_rng(0).uniform(-1, 1, (1, *size, runner.input_channels)).astype(np.float32))
    times = []
    for index in range(warmup + runs):
        start = time.perf_counter()
        runner.interpreter.invoke()
        if index >= warmup:
            times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def latency(model, image_size: tuple[int, int] | None = None, runs: int = 20) -> dict:
    """What metadata.json records of a measured .tflite: median ms per frame on 1 thread and on every core."""
    cores = os.cpu_count() or 1
    return {"median_ms_1_thread": round(median_ms(model, 1, image_size, runs), 2),
            "median_ms_all_cores": round(median_ms(model, cores, image_size, runs), 2), "cores": cores,
            "runs": runs, "runtime": "ai_edge_litert Interpreter, default XNNPACK delegate"}


__all__ = ["count_macs", "latency", "median_ms"]
