"""Which ops of a .tflite file LiteRT's XNNPACK delegate runs, and which it leaves to the reference kernels.

XNNPACK is the CPU delegate LiteRT applies by default (on phones too). It takes the largest runs of ops it
supports and replaces each run by one DELEGATE node (a "partition"); every op it refuses stays a separate
TFLite kernel and splits the graph, costing a copy at each boundary. A phone runtime takes an export whole
when there is one partition and no op is left outside it. `xnnpack_report` says which is the case.

How: LiteRT's Python interpreter applies XNNPACK at `allocate_tensors` and appends the DELEGATE nodes to the
graph's node list; each one's inputs and outputs bound the ops it replaced, so walking back from its outputs
to its inputs finds them, and an op no partition holds runs outside XNNPACK. The node list is read through
`Interpreter._get_ops_details` (private, but the only way to see ops): the public ways that work offline only
say all or nothing (`CompiledModel.is_fully_accelerated`) or print a log line
(`python -m ai_edge_litert.tools.benchmark_litert_model`).
"""

from __future__ import annotations

from collections import Counter

from tfgan_translate.export.tflite import TFLiteRunner

# Why XNNPACK leaves an op to TFLite's own kernels, for the ops an export can hold.
REASONS = {
    "RANDOM_UNIFORM": "XNNPACK has no random-number ops: pix2pix's test-time dropout noise (--test-dropout on) "
                      "is drawn by TFLite's kernel; export with --test-dropout off for a fully delegated graph",
    "SHAPE": "XNNPACK has no shape ops: a dynamic-size file reads the shape of the dropout noise at run time",
    "MIRROR_PAD": "XNNPACK has no reflection padding",
    "TRANSPOSE_CONV": "XNNPACK takes TRANSPOSE_CONV only with constant weights and a static output shape",
}
VARIABLE_OPS = ("VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE", "CALL_ONCE")


def xnnpack_report(model, image_size: tuple[int, int] | None = None) -> dict:
    """What XNNPACK runs of a .tflite file.

    Args:
        model: str, Path or bytes. The .tflite file or its contents.
        image_size: (height, width) or None. The size a dynamic-size model is analysed at (XNNPACK
            plans for a static shape). Ignored for a fixed-size model.

    Returns:
        {"fully_delegated": bool, "partitions": number of XNNPACK partitions, "ops": number of ops,
        "delegated_ops": {op: count}, "not_delegated": [{"op", "count", "reason"}],
        "variable_ops": [op names]}.

    Example:

    >>> xnnpack_report("exports/facades/generator_float32.tflite")["fully_delegated"]  # doctest: +SKIP
    True
    """
    nodes = TFLiteRunner(model, 1, size=image_size).interpreter._get_ops_details()
    delegates = [node for node in nodes if node["op_name"] == "DELEGATE"]
    ops = [node for node in nodes if node["op_name"] != "DELEGATE"]
    producer = {tensor: node["index"] for node in ops for tensor in node["outputs"]}
    delegated = set()
    for delegate in delegates:  # the ops between a partition's outputs and its inputs are the ones it replaced
        bound, stack = set(delegate["inputs"]), [t for t in delegate["outputs"] if t in producer]
        while stack:
            index = producer[stack.pop()]
            if index not in delegated:
                delegated.add(index)
                stack += [t for t in nodes[index]["inputs"] if t in producer and t not in bound]
    inside = Counter(node["op_name"] for node in ops if node["index"] in delegated)
    outside = Counter(node["op_name"] for node in ops if node["index"] not in delegated)
    return {
        "fully_delegated": not outside and len(delegates) == 1,
        "partitions": len(delegates),
        "ops": len(ops),
        "delegated_ops": dict(inside),
        "not_delegated": [{"op": op, "count": count,
                           "reason": REASONS.get(op, "XNNPACK does not take this op with these operand types")}
                          for op, count in outside.items()],
        "variable_ops": sorted({node["op_name"] for node in ops if node["op_name"] in VARIABLE_OPS}),
    }


__all__ = ["REASONS", "VARIABLE_OPS", "xnnpack_report"]
