"""What an exported .tflite costs on a CPU: multiply-accumulates counted from its graph, and measured latency.

- `count_macs(model)`: the multiply-accumulates of one run, summed over the CONV_2D, DEPTHWISE_CONV_2D,
  TRANSPOSE_CONV and FULLY_CONNECTED ops from their tensor shapes (the other ops' arithmetic is small beside
  them). A sub-pixel up-convolution (`export.subpixel`) counts its s*s phase convolutions: as many MACs as
  the TRANSPOSE_CONV it replaces when the kernel size is a multiple of the stride.
- `tflite_entry(content, ...)`: what metadata.json says of one .tflite file: its tensors, MACs, XNNPACK
  report (`delegation.xnnpack_report`) and, with `benchmark`, its latency.
- `median_ms(model, threads)`: the median time of one `invoke` of LiteRT's interpreter with its default
  XNNPACK delegate, after warm-up runs (`tfgan-translate export --benchmark`, `benchmarks/export_bench.py`).
"""

from __future__ import annotations

import os
import statistics
import timeit

import numpy as np

from tfgan_translate.export.delegation import xnnpack_report
from tfgan_translate.export.tflite import FLOAT_IN_INT8, TFLiteRunner

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
    shapes = {tensor["index"]: tensor["shape"] for tensor in runner.interpreter.get_tensor_details()}
    ops = [op for op in runner.interpreter._get_ops_details() if op["op_name"] in _MACS]  # private: see `delegation`
    # Each op's output, weights (input 1) and data input (TRANSPOSE_CONV's inputs: output shape, w, x).
    return sum(int(_MACS[op["op_name"]](shapes[op["outputs"][0]], shapes[op["inputs"][1]],
                                        shapes[op["inputs"][2 if op["op_name"] == "TRANSPOSE_CONV" else 0]]))
               for op in ops)


def median_ms(model, threads: int | None = None, image_size: tuple[int, int] | None = None, runs: int = 20,
              warmup: int = 3) -> float:
    """Median milliseconds of one run of `model` with `threads` CPU threads (None: every core), XNNPACK on."""
    runner = TFLiteRunner(model, threads, size=image_size)
    size = runner.image_size or image_size
    runner(np.random.default_rng(0).uniform(-1, 1, (1, *size, runner.input_channels)).astype(np.float32))
    times = timeit.repeat(runner.interpreter.invoke, number=1, repeat=warmup + runs)  # seconds, one run each
    return 1000 * statistics.median(times[warmup:])


def latency(model, image_size: tuple[int, int] | None = None, runs: int = 20) -> dict:
    """What metadata.json records of a measured .tflite: median ms per frame on 1 thread and on every core."""
    cores = os.cpu_count() or 1
    return {"median_ms_1_thread": round(median_ms(model, 1, image_size, runs), 2),
            "median_ms_all_cores": round(median_ms(model, cores, image_size, runs), 2), "cores": cores,
            "runs": runs, "runtime": "ai_edge_litert Interpreter, default XNNPACK delegate"}


def tflite_entry(content: bytes, quantize: str, image_size: tuple[int, int], benchmark: bool = False) -> dict:
    """What metadata.json says about one .tflite file: how a runtime feeds it, what runs it, what it costs.

    Args:
        content: bytes. The .tflite file.
        quantize: str. Its quantization ("none", "float16" or "int8").
        image_size: (height, width). Its input size, or for a dynamic-size file the size its MACs, XNNPACK
            report and latency are measured at.
        benchmark: bool. Measure its latency (`latency.latency`). Defaults to False.

    Returns:
        {"quantization", "ops", "signature", "input", "output" (each {"name": signature key, "tensor",
        "dtype", "shape" (None: any size), "range", "layout", "channel_order"}), "bytes", "macs",
        "measured_at", "xnnpack" (`delegation.xnnpack_report`), "latency" (None unless `benchmark`)}.
    """
    interpreter = TFLiteRunner(content, 1, size=image_size).interpreter
    (signature, keys), = interpreter.get_signature_list().items()

    def tensor(details, key):
        channels = int(details["shape"][-1])
        return {"name": key, "tensor": details["name"], "dtype": np.dtype(details["dtype"]).name,
                "shape": [None if side < 0 else int(side) for side in details["shape_signature"]],
                "range": [-1.0, 1.0], "layout": "NHWC",
                "channel_order": {1: "grey", 3: "RGB", 4: "RGBA"}.get(channels, f"{channels} channels")}

    return {
        "quantization": {"none": "float32", "float16": "float16 weights, float32 compute on CPU",
                         "int8": f"int8 weights and activations, but {', '.join(FLOAT_IN_INT8)} in float32 (XNNPACK "
                                 "does not take them quantized); float32 input and output"}[quantize],
        "ops": "TFLITE_BUILTINS_INT8" if quantize == "int8" else "TFLITE_BUILTINS",
        "signature": signature,
        "input": tensor(interpreter.get_input_details()[0], keys["inputs"][0]),
        "output": tensor(interpreter.get_output_details()[0], keys["outputs"][0]),
        "bytes": len(content),
        "macs": count_macs(content, image_size),
        "measured_at": list(image_size),
        "xnnpack": xnnpack_report(content, image_size),
        "latency": latency(content, image_size) if benchmark else None,
    }


__all__ = ["count_macs", "latency", "median_ms", "tflite_entry"]
