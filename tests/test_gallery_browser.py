"""The HTML sample gallery (RUN_DIR/samples/index.html) in a real browser: headless Chromium.

A small wrapper page loads the gallery in an iframe and, once it has loaded, writes what the browser saw
(each image's natural size, the epoch captions) into its own DOM, which `chromium --dump-dom` prints. A
screenshot of the gallery is saved for the test log. Skips where no Chromium is installed (`.ci/run`
installs Debian's `chromium`).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

WRAPPER = """<!doctype html><html><body><pre id="result">pending</pre>
<iframe id="gallery" src="{src}" width="900" height="700"></iframe>
<script>
document.getElementById("gallery").addEventListener("load", function () {{
  var out = document.getElementById("result");
  try {{
    var doc = this.contentDocument;
    var images = Array.from(doc.images).map(function (img) {{
      return {{src: img.getAttribute("src"), complete: img.complete, width: img.naturalWidth}};
    }});
    var captions = Array.from(doc.querySelectorAll("figcaption")).map(function (c) {{ return c.textContent; }});
    out.textContent = "RESULT:" + JSON.stringify({{images: images, captions: captions}}) + ":END";
  }} catch (e) {{ out.textContent = "RESULT:" + JSON.stringify({{error: String(e)}}) + ":END"; }}
}});
</script></body></html>
"""


@pytest.fixture(scope="module")
def chromium() -> str:
    """The Chromium executable, or a skip saying why (asked before the tiny run is trained)."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if found := shutil.which(name):
            return found
    pytest.skip("no Chromium on PATH (Debian: apt-get install chromium; .ci/run installs it)")


def _run_chromium(chromium: str, *args, profile: Path) -> subprocess.CompletedProcess:
    # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
    return subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                           "--allow-file-access-from-files", f"--user-data-dir={profile}",
                           "--virtual-time-budget=10000", *args], capture_output=True, text=True, timeout=120)


def gallery_in_browser(chromium: str, index: Path, tmp_path: Path) -> dict:
    """What headless Chromium saw of `index`: {"images": [{src, complete, width}], "captions": [...]}."""
    wrapper = tmp_path / "wrapper.html"
    wrapper.write_text(WRAPPER.format(src=index.resolve().as_uri()))
    done = _run_chromium(chromium, "--dump-dom", wrapper.as_uri(), profile=tmp_path / "profile")
    found = re.search(r"RESULT:(.*?):END", done.stdout, re.S)
    assert found, f"no result from Chromium (exit {done.returncode}): {done.stdout[-500:]} {done.stderr[-1500:]}"
    result = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert "error" not in result, result
    return result


def test_gallery_images_load_newest_first_in_chromium(chromium, tiny_run, tmp_path):
    index = tiny_run / "samples" / "index.html"
    seen = gallery_in_browser(chromium, index, tmp_path)
    pngs = sorted(p.name for p in (tiny_run / "samples").glob("epoch_*.png"))
    assert sorted(image["src"] for image in seen["images"]) == pngs  # every grid is on the page
    for image in seen["images"]:
        assert image["complete"] and image["width"] > 0, image  # and the browser decoded it
    epochs = [int(caption.split()[-1]) for caption in seen["captions"]]
    assert epochs == sorted(epochs, reverse=True) and len(set(epochs)) == len(epochs) == len(pngs), epochs
    assert [int(image["src"][6:10]) for image in seen["images"]] == epochs  # each caption above its own grid

    screenshot = tmp_path / "gallery.png"
    done = _run_chromium(chromium, f"--screenshot={screenshot}", "--window-size=900,1200", index.resolve().as_uri(),
                         profile=tmp_path / "profile-shot")
    assert screenshot.is_file() and screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", done.stderr[-1500:]
    print(f"gallery screenshot: {screenshot}")


def test_the_browser_check_sees_a_missing_image(chromium, tiny_run, tmp_path):
    """The check itself: with one grid deleted, Chromium reports an image of natural width 0."""
    samples = tmp_path / "samples"
    shutil.copytree(tiny_run / "samples", samples)
    missing = sorted(samples.glob("epoch_*.png"))[0]
    missing.unlink()
    seen = gallery_in_browser(chromium, samples / "index.html", tmp_path)
    widths = {image["src"]: image["width"] for image in seen["images"]}
    assert widths[missing.name] == 0 and all(w > 0 for name, w in widths.items() if name != missing.name), widths
