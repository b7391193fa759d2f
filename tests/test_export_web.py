"""`export --web`: the exported page translates in a real browser (headless Chromium) as Python LiteRT does.

One tiny generator is exported once as a web page (32 px, float32, LiteRT.js copied from the pinned npm
package) and once with the default CDN address. Each case serves a folder from 127.0.0.1 (a threaded
`http.server`, with or without the COOP/COEP headers that allow LiteRT.js's threaded WASM build), opens
`index.html?input=<a 32 px PNG>` in one shared headless Chromium driven over the DevTools protocol
(`--remote-debugging-pipe`), waits for `document.body.dataset.status`, and compares the pixels of
`<canvas id="output">` with the Python LiteRT output of the same .tflite on the same image: at most 2 levels
of 255 apart. The CDN page is tested with the CDN root rewritten to a second local origin that serves the
npm package with CORS (the CDN itself is out of reach here). Skips, saying why, where Chromium or the npm
package (`.ci/run`: `npm install --prefix ~/.cache/tfgan_translate/npm @litertjs/core@2.5.3`) is absent.
"""

from __future__ import annotations

import base64
import fcntl
import functools
import http.server
import json
import os
import select
import shutil
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tfgan_translate.app.cli import main
from tfgan_translate.export import export_generator, web
from tfgan_translate.networks import UNetGenerator

SIZE = 32
NPM_CORE = Path(os.environ.get("TFGAN_TRANSLATE_LITERTJS",
                               Path.home() / ".cache/tfgan_translate/npm/node_modules/@litertjs/core"))
ISOLATION = {"Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp"}
CORS = {"Access-Control-Allow-Origin": "*", "Cross-Origin-Resource-Policy": "cross-origin"}


# ---------------------------------------------------------------------------------------------- the browser
class Chromium:
    """Headless Chromium driven over the DevTools protocol on a pipe (fd 3: commands in, fd 4: replies out)."""

    def __init__(self, executable: str, profile: Path):
        commands_r, self._commands = os.pipe()
        self._replies, replies_w = os.pipe()
        # Above fd 10, so that moving them to 3 and 4 in the child overwrites neither.
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (commands_r, replies_w)]
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start. WebGPU is offered where an
        # adapter exists (SwiftShader's Vulkan on a CPU machine, where this Chromium has it).
        self.process = subprocess.Popen(
            [executable, "--headless", "--no-sandbox", "--no-first-run", f"--user-data-dir={profile}",
             "--remote-debugging-pipe", "--enable-unsafe-webgpu", "--enable-features=Vulkan",
             "--use-webgpu-adapter=swiftshader", "--window-size=900,700", "about:blank"],
            # dup2 makes inheritable copies; every other descriptor of ours is non-inheritable (PEP 446)
            close_fds=False, preexec_fn=lambda: (os.dup2(high[0], 3), os.dup2(high[1], 4)),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for fd in (commands_r, replies_w, *high):
            os.close(fd)
        self._buffer, self._id = b"", 0
        try:
            target = self.send("Target.createTarget", url="about:blank")["targetId"]
            self.session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        except BaseException:
            self.close()
            raise

    def send(self, method: str, session: str | None = None, timeout: float = 60, **params) -> dict:
        self._id += 1
        message = {"id": self._id, "method": method, "params": params, **({"sessionId": session} if session else {})}
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" not in self._buffer:
                if not select.select([self._replies], [], [], max(0.0, deadline - time.monotonic()))[0]:
                    raise TimeoutError(f"Chromium did not answer {method} within {timeout} s")
                chunk = os.read(self._replies, 1 << 20)
                if not chunk:
                    raise RuntimeError(f"Chromium closed the pipe (exit {self.process.poll()})")
                self._buffer += chunk
            reply, self._buffer = self._buffer.split(b"\0", 1)
            reply = json.loads(reply)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def evaluate(self, expression: str, **kwargs):
        result = self.send("Runtime.evaluate", self.session, expression=expression, returnByValue=True,
                           awaitPromise=True, **kwargs)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:60]}...: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url: str, timeout: float = 45) -> dict:
        """Opens `url` and waits for the page's status; returns {status, timing, pixels (H, W, 3)}."""
        self.send("Page.navigate", self.session, url=url)
        deadline, status = time.monotonic() + timeout, None
        while time.monotonic() < deadline and status not in ("done", "ready") and not str(status).startswith("error"):
            time.sleep(0.1)
            status = self.evaluate("document.body && document.body.dataset.status")
        page = {"status": status}
        if status == "done":
            found = self.evaluate("""(() => {
                const canvas = document.getElementById("output");
                const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
                return {timing: document.getElementById("timing").textContent, size: [canvas.height, canvas.width],
                        pixels: Array.from(data)};
            })()""")
            page["timing"] = json.loads(found["timing"])
            page["pixels"] = np.asarray(found["pixels"], np.uint8).reshape(*found["size"], 4)[..., :3]
        return page

    def screenshot(self, path: Path) -> Path:
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", self.session, format="png")["data"]))
        return path

    def close(self):
        self.process.kill()
        self.process.wait(timeout=10)
        os.close(self._commands)
        os.close(self._replies)


# ---------------------------------------------------------------------------------------------- servers
def serve(folder: Path, headers: dict) -> str:
    """Serves `folder` from 127.0.0.1 in a daemon thread, sending `headers` too; returns its origin."""

    class Handler(http.server.SimpleHTTPRequestHandler):
        def end_headers(self):
            for name, value in headers.items():
                self.send_header(name, value)
            super().end_headers()

        def log_message(self, *args):  # quiet
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


# ---------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    executable = next((found for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
                       if (found := shutil.which(name))), None)
    if executable is None:
        pytest.skip("no Chromium on PATH (Debian: apt-get install chromium; .ci/run installs it)")
    if not (NPM_CORE / "package.json").is_file():
        pytest.skip(f"no @litertjs/core at {NPM_CORE} (npm install --prefix ~/.cache/tfgan_translate/npm "
                    f"@litertjs/core@{web.LITERTJS_VERSION}; .ci/run does; or set TFGAN_TRANSLATE_LITERTJS)")
    browser = Chromium(executable, tmp_path_factory.mktemp("chromium-profile"))
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def exports(chromium, tmp_path_factory):
    """(local, cdn, {precision: expected pixels}): one generator exported with the npm runtime (float32 and
    int8) and with the CDN address (float32); input.png in both folders."""
    from ai_edge_litert.interpreter import Interpreter

    root = tmp_path_factory.mktemp("web")
    generator = UNetGenerator(depth=5, ngf=8)
    rng = np.random.default_rng(0)
    local = export_generator(generator, root / "local", image_size=SIZE, test_dropout="off", web=True,
                             web_runtime=NPM_CORE, quantize=("none", "int8"),
                             representative_data=rng.uniform(-1, 1, (8, SIZE, SIZE, 3)).astype(np.float32)).out_dir
    cdn = export_generator(generator, root / "cdn", image_size=SIZE, test_dropout="off", web=True).out_dir
    # smooth colours plus noise: an input with structure at every scale
    ramp = np.linspace(0, 255, SIZE)
    image = np.stack([np.add.outer(ramp, ramp) / 2, np.add.outer(ramp[::-1], ramp) / 2,
                      rng.uniform(0, 255, (SIZE, SIZE))], axis=-1).astype(np.uint8)
    for folder in (local, cdn):
        Image.fromarray(image).save(folder / "input.png")
    expected = {}
    for precision in ("float32", "int8"):
        interpreter = Interpreter(model_path=str(local / f"generator_{precision}.tflite"))
        interpreter.allocate_tensors()
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"],
                               (image[None] / 127.5 - 1).astype(np.float32))
        interpreter.invoke()
        y = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])[0]
        expected[precision] = np.clip(np.round((y + 1) * 127.5), 0, 255).astype(np.uint8)
    return local, cdn, expected


def _check(page: dict, expected: np.ndarray, label: str) -> dict:
    assert page["status"] == "done", f"{label}: {page['status']}"
    diff = int(np.abs(page["pixels"].astype(int) - expected.astype(int)).max())
    print(f"{label}: max diff {diff} levels of 255, {page['timing']}")
    assert page["pixels"].shape == expected.shape and diff <= 2, (label, diff)
    return page["timing"]


# ---------------------------------------------------------------------------------------------- tests
def test_page_translates_like_python_litert_on_wasm(chromium, exports, tmp_path):
    local, _, expected = exports
    expected = expected["float32"]
    origin = serve(local, {})
    timing = _check(chromium.open(f"{origin}/index.html?input=input.png&accelerator=wasm"), expected, "wasm")
    assert timing["accelerator"] == "wasm" and timing["threads"] == 1 and timing["ms"] > 0
    print(f"screenshot: {chromium.screenshot(tmp_path / 'web_page.png')}")
    assert (tmp_path / "web_page.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_page_runs_threaded_wasm_under_coop_coep(chromium, exports):
    local, _, expected = exports
    expected = expected["float32"]
    origin = serve(local, ISOLATION)
    timing = _check(chromium.open(f"{origin}/index.html?input=input.png&accelerator=wasm"), expected, "wasm+COOP/COEP")
    assert timing["accelerator"] == "wasm" and timing["threads"] >= 1


def test_page_tries_webgpu_and_says_what_ran(chromium, exports):
    local, _, expected = exports
    expected = expected["float32"]
    origin = serve(local, {})
    adapter = chromium.evaluate("navigator.gpu ? navigator.gpu.requestAdapter().then(a => !!a) : false")
    timing = _check(chromium.open(f"{origin}/index.html?input=input.png"), expected, f"default (adapter: {adapter})")
    assert timing["accelerator"] in (("webgpu", "wasm") if adapter else ("wasm",))  # a fallback is fine


def test_int8_page_runs_on_wasm_by_default(chromium, exports):
    """LiteRT.js's WebGPU int8 kernels were measured tens of levels off: an int8 page picks WASM itself."""
    local, _, expected = exports
    page = chromium.open(f"{serve(local, {})}/index.html?input=input.png&precision=int8")
    assert _check(page, expected["int8"], "int8 default")["accelerator"] == "wasm"


def test_default_page_loads_the_pinned_runtime_from_the_cdn_address(chromium, exports, tmp_path):
    _, cdn, expected = exports
    expected = expected["float32"]
    page = (cdn / "index.html").read_text()
    assert f"{web.CDN_ROOT}core@{web.LITERTJS_VERSION}/dist/index.js" in page and not (cdn / "litertjs").exists()
    mirror = tmp_path / "cdn"  # the CDN's layout: @litertjs/<name>@<version>/...
    mirror.mkdir()
    for name in ("core", "wasm-utils"):
        (mirror / f"{name}@{web.LITERTJS_VERSION}").symlink_to(NPM_CORE.parent / name)
    runtime = serve(mirror, CORS)
    site = tmp_path / "site"
    shutil.copytree(cdn, site)
    (site / "index.html").write_text(page.replace(web.CDN_ROOT, runtime + "/"))
    for headers, label in (({}, "CDN layout"), (ISOLATION, "CDN layout+COOP/COEP")):
        _check(chromium.open(f"{serve(site, headers)}/index.html?input=input.png&accelerator=wasm"), expected, label)


def test_page_reports_errors_in_its_status(chromium, exports):
    local, _, _ = exports
    origin = serve(local, {})
    page = chromium.open(f"{origin}/index.html?input=missing.png&accelerator=wasm")
    assert page["status"].startswith("error:"), page
    assert chromium.open(f"{origin}/index.html?accelerator=cuda")["status"].startswith("error: accelerator=cuda")


def test_web_export_refuses_what_a_page_cannot_run(tmp_path, capsys):
    generator = UNetGenerator(depth=5, ngf=4)
    with pytest.raises(ValueError, match="static shapes"):
        export_generator(generator, tmp_path / "dynamic", web=True, dynamic_size=True)
    with pytest.raises(ValueError, match="web_runtime"):
        export_generator(generator, tmp_path / "runtime-only", web_runtime=tmp_path)
    with pytest.raises(FileNotFoundError, match="package.json"):
        export_generator(generator, tmp_path / "no-npm", web=True, web_runtime=tmp_path)
    assert main(["export", "run", "--web", str(tmp_path / "w"), "--dynamic-size"]) == 2
    assert "--web needs a fixed-size .tflite" in capsys.readouterr().err
    assert main(["export", "run", "--web", str(tmp_path / "w"), "--out", str(tmp_path / "o")]) == 2
    assert "give one" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing written


def test_cli_web_export_keeps_the_users_files(tmp_path, capsys):
    generator = UNetGenerator(depth=5, ngf=4)
    path = tmp_path / "g.keras"
    generator.save(path)
    out = tmp_path / "site"
    assert main(["-q", "export", str(path), "--web", str(out), "--image-size", "32", "--test-dropout", "off"]) == 0
    assert "web page" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["generator_float32.tflite", "index.html", "metadata.json",
                                                     "model.json", "translate.js"]
    (out / "NOTES.txt").write_text("mine")
    assert main(["-q", "export", str(path), "--web", str(out), "--image-size", "32", "--test-dropout", "off"]) == 0
    assert (out / "NOTES.txt").read_text() == "mine"
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "index.html").write_text("my page")
    assert main(["-q", "export", str(path), "--web", str(photos), "--image-size", "32"]) == 2
    assert (photos / "index.html").read_text() == "my page"
    plain = tmp_path / "plain"  # an earlier export with a page of the user's under a name --web writes
    export_generator(generator, plain, saved_model=False, image_size=32)
    (plain / "index.html").write_text("my page")
    capsys.readouterr()
    assert main(["-q", "export", str(path), "--web", str(plain), "--image-size", "32"]) == 2
    assert "would replace" in capsys.readouterr().err and (plain / "index.html").read_text() == "my page"
