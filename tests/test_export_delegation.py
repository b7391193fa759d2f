"""Exports a phone runtime takes whole: every .tflite in one XNNPACK partition, no variable ops; MACs; metadata.

Tiny generators (a U-Net with batch norm, a ResNet with instance norm, reflection padding and cropped
up-convolutions) converted to float32 / float16 / int8, fixed-size and dynamic-size, analysed with
`export.delegation.xnnpack_report` (LiteRT's interpreter with its default XNNPACK delegate).
"""

import json

import keras
import numpy as np
import pytest

from tfgan_translate.export import TFLiteRunner, export_generator, inference_copy
from tfgan_translate.export.delegation import xnnpack_report
from tfgan_translate.export.latency import count_macs
from tfgan_translate.export.tflite import convert
from tfgan_translate.networks import ResNetGenerator, UNetGenerator

pytest.importorskip("ai_edge_litert",
                    reason="LiteRT (ai-edge-litert, the test extra) is not installed: pip install -e .[test]")
SIZE = 64
QUANTIZE = ("none", "float16", "int8")


def _calibration(channels=3, count=2):
    return np.random.default_rng(0).uniform(-1, 1, (count, SIZE, SIZE, channels)).astype(np.float32)


@pytest.fixture(scope="module")
def generators():
    return {"unet": UNetGenerator(depth=6, ngf=4, norm="batch", dropout=0.5),
            "resnet": ResNetGenerator(n_blocks=2, ngf=4, norm="instance")}


@pytest.mark.parametrize(("name", "dynamic"), [("unet", True), ("resnet", False), ("resnet", True)],
                         ids=["unet-dynamic", "resnet-fixed", "resnet-dynamic"])  # unet fixed: the metadata test
def test_every_export_kind_runs_whole_in_xnnpack_without_variable_ops(generators, name, dynamic):
    copy = inference_copy(generators[name], "off", "image")
    files = convert(copy, QUANTIZE, image_size=None if dynamic else (SIZE, SIZE), representative=_calibration())
    for quantize, content in files.items():
        report = xnnpack_report(content, (SIZE, SIZE))
        print(name, "dynamic" if dynamic else "fixed", quantize, report["partitions"], report["ops"])
        assert report["fully_delegated"], (quantize, report)
        assert report["partitions"] == 1 and report["not_delegated"] == [] and report["variable_ops"] == []
        assert "MIRROR_PAD" not in report["delegated_ops"] and sum(report["delegated_ops"].values()) == report["ops"]


def test_without_the_rewrites_the_graph_splits(generators):
    """The analyzer sees what the rewrites remove: MIRROR_PAD (ResNet) and quantized norm ops (int8)."""
    copy = inference_copy(generators["resnet"], "off", "image")
    files = convert(copy, ("none", "int8"), image_size=(SIZE, SIZE), representative=_calibration(), xnnpack=False)
    float32, int8 = (xnnpack_report(files[name]) for name in ("none", "int8"))
    assert not float32["fully_delegated"] and float32["partitions"] > 1
    assert {"op": "MIRROR_PAD", "count": 6, "reason": "XNNPACK has no reflection padding"} in float32["not_delegated"]
    assert {"RSQRT", "MIRROR_PAD"} <= {op["op"] for op in int8["not_delegated"]}


def test_test_time_dropout_leaves_only_random_uniform_outside_with_its_reason(generators):
    copy = inference_copy(generators["unet"], "on", "image")
    files = convert(copy, ("none", "int8"), image_size=(SIZE, SIZE), representative=_calibration())
    for quantize, content in files.items():
        report = xnnpack_report(content)
        assert [op["op"] for op in report["not_delegated"]] == ["RANDOM_UNIFORM"], (quantize, report)
        assert "dropout" in report["not_delegated"][0]["reason"] and report["variable_ops"] == []


def test_macs_equal_a_hand_count():
    image = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(8, 3, padding="same")(image)
    y = keras.layers.Conv2DTranspose(2, 4, strides=2, padding="same")(x)
    model = keras.Model(image, keras.layers.Dense(5)(y))
    conv = 8 * 8 * 8 * (3 * 3 * 3)  # output pixels x channels, times the taps of each
    up = 8 * 8 * 8 * (4 * 4 * 2)  # every input value meets every tap of every output channel
    dense = 16 * 16 * 5 * 2
    for subpixel in (False, True):  # TRANSPOSE_CONV, or its 4 phase convolutions: the same MACs
        content = convert(model, ("none",), image_size=(8, 8), subpixel=subpixel)["none"]
        assert count_macs(content) == conv + up + dense
    dynamic = convert(model, ("none",), image_size=None)["none"]
    assert count_macs(dynamic, (16, 8)) == 2 * (conv + up + dense)


def test_metadata_describes_each_file_as_the_interpreter_sees_it(generators, tmp_path):
    result = export_generator(generators["unet"], tmp_path / "export", saved_model=False, quantize=QUANTIZE,
                              test_dropout="off", image_size=SIZE, representative_data=_calibration(),
                              benchmark=True)
    files = json.loads((tmp_path / "export" / "metadata.json").read_text())["tflite"]["files"]
    assert files == result.metadata["tflite"]["files"] and len(files) == 3
    for quantize, path in result.tflite.items():
        entry = files[path.name]
        interpreter = TFLiteRunner(path).interpreter
        signatures = interpreter.get_signature_list()
        assert entry["signature"] == "serving_default" and list(signatures) == ["serving_default"]
        for side, details in (("input", interpreter.get_input_details()[0]),
                              ("output", interpreter.get_output_details()[0])):
            assert entry[side] == {"name": signatures["serving_default"][f"{side}s"][0], "tensor": details["name"],
                                   "dtype": "float32", "shape": [int(v) for v in details["shape"]],
                                   "range": [-1.0, 1.0], "layout": "NHWC", "channel_order": "RGB"}
            assert details["dtype"] == np.float32 and list(details["shape"]) == [1, SIZE, SIZE, 3]
        assert entry["bytes"] == path.stat().st_size and entry["macs"] == count_macs(path) > 0
        assert entry["xnnpack"] == xnnpack_report(path) and entry["xnnpack"]["fully_delegated"], quantize
        assert entry["xnnpack"]["partitions"] == 1 and entry["xnnpack"]["variable_ops"] == []
        latency = entry["latency"]
        assert latency["median_ms_1_thread"] > 0 and latency["median_ms_all_cores"] > 0 and latency["cores"] >= 1
        assert entry["measured_at"] == [SIZE, SIZE]
    summary = result.summary()
    assert "whole in XNNPACK" in summary and "ms on 1 thread" in summary and "GMAC" in summary


def test_dynamic_size_metadata_keeps_any_size_and_says_where_it_was_measured(generators, tmp_path):
    result = export_generator(generators["resnet"], tmp_path / "export", saved_model=False, quantize="none",
                              dynamic_size=True, image_size=32, representative_data=_calibration())
    entry = result.metadata["tflite"]["files"]["generator_float32.tflite"]
    assert entry["input"]["shape"] == [1, None, None, 3] and entry["output"]["shape"] == [1, None, None, 3]
    assert entry["measured_at"] == [32, 32] and entry["latency"] is None
    assert entry["macs"] == count_macs(result.tflite["none"], (32, 32)) and entry["xnnpack"]["fully_delegated"]


def test_cli_export_takes_benchmark():
    from tfgan_translate.app.cli import build_parser

    args = build_parser().parse_args(["export", "runs/x", "--benchmark"])
    assert args.benchmark is True


def test_floor_dropout_drops_at_the_rate_and_scales_what_it_keeps():
    from tfgan_translate.export.tflite_graph import FloorDropout

    y = np.asarray(FloorDropout(0.25)(np.ones((1, 64, 64, 8), np.float32)))
    assert set(np.unique(y).tolist()) <= {0.0, np.float32(1 / 0.75)} and abs(float((y == 0).mean()) - 0.25) < 0.03
