"""A web page that translates on the device: an export folder the browser serves, with LiteRT.js.

`export_generator(..., web=True)` (`tfgan-translate export RUN --web OUT`) writes, beside the fixed-size
.tflite files and metadata.json of the export:

    index.html      the page: a photo (file or camera) -> resized / center-cropped to the model size ->
                    LiteRT.js (WebGPU where the browser offers it, else WASM with XNNPACK) -> input | output
    translate.js    the page's script (package data: `export/web_page/`)
    model.json      what the page needs: size, channels, direction, value range, precision -> file, versions
    litertjs/       with `runtime` (a local `@litertjs/core` folder): the runtime files the page loads;
                    without it the page loads the pinned version from `CDN_ROOT`

LiteRT.js takes static shapes only, hence the fixed size. The page's contract for automation:
`index.html?input=URL` translates URL on load, draws the output at the model size in `<canvas id="output">`,
writes `{"ms": ..., "accelerator": ..., "threads": ...}` into `<pre id="timing">` and sets
`document.body.dataset.status` to `done` or `error: <message>`; `?accelerator=wasm|webgpu` and
`?precision=float32|float16|int8` choose. Where the server sends `Cross-Origin-Opener-Policy: same-origin`
and `Cross-Origin-Embedder-Policy: require-corp`, the page runs LiteRT.js's threaded WASM build.
"""

from __future__ import annotations

import json
import shutil
from importlib import metadata as importlib_metadata
from importlib import resources
from pathlib import Path

LITERTJS_VERSION = "2.5.3"
CDN_ROOT = "https://cdn.jsdelivr.net/npm/@litertjs/"  # + "core@2.5.3/": the one public address of the runtime
RUNTIME_DIR = "litertjs"
MODEL_JSON = "model.json"
PAGE_FILES = ("index.html", "translate.js")
FILE_NAMES = {*PAGE_FILES, MODEL_JSON, RUNTIME_DIR}  # what a web export adds to an export folder
# The files the page loads, per package: the module and its one import, and the three WASM builds it picks
# from (relaxed SIMD or not, threads or not).
RUNTIME_FILES = {"core": ["dist/index.js", *(f"wasm/litert_wasm_{build}.{ext}" for build in
                                             ("internal", "compat_internal", "threaded_internal")
                                             for ext in ("js", "wasm"))],
                 "wasm-utils": ["dist/index.js"]}


def runtime_files(runtime: str | Path) -> dict[str, Path]:
    """{path under litertjs/: source file} for a local `@litertjs/core` folder of version `LITERTJS_VERSION`.

    `@litertjs/wasm-utils` is looked up beside it (`node_modules/@litertjs/`) or inside it.

    Raises:
        FileNotFoundError: a package or a file the page loads is missing.
        ValueError: a package of another name or version.
    """
    core = Path(runtime)
    folders = {"core": core, "wasm-utils": next((path for path in (core.parent / "wasm-utils",
                                                                   core / "node_modules/@litertjs/wasm-utils")
                                                 if path.is_dir()), core.parent / "wasm-utils")}
    found = {}
    for name, folder in folders.items():
        package = folder / "package.json"
        if not package.is_file():
            raise FileNotFoundError(f"Invalid value for `web_runtime`: {package} does not exist. Expected the folder "
                                    f"of @litertjs/core (`npm install @litertjs/core@{LITERTJS_VERSION}`, then "
                                    "node_modules/@litertjs/core).")
        described = json.loads(package.read_text())
        if (described.get("name"), described.get("version")) != (f"@litertjs/{name}", LITERTJS_VERSION):
            raise ValueError(f"Invalid value for `web_runtime`: {package} describes {described.get('name')} "
                             f"{described.get('version')}. Expected @litertjs/{name} {LITERTJS_VERSION}.")
        for file in RUNTIME_FILES[name]:
            if not (folder / file).is_file():
                raise FileNotFoundError(f"Invalid value for `web_runtime`: {folder / file} does not exist; the "
                                        "page loads it.")
            found[f"{name}/{file}"] = folder / file
    return found


def write_page(folder: Path, *, models: dict[str, str], size: tuple[int, int], channels: tuple[int, int],
               direction: str, runtime: dict[str, Path] | None) -> None:
    """Writes index.html, translate.js, model.json (and litertjs/ from `runtime_files`) into `folder`.

    Args:
        folder: Path. The export's staging folder, holding the .tflite files already.
        models: {precision: .tflite file name}; the page runs the first unless `?precision=` names another.
        size: (height, width) of the models' fixed input.
        channels: (input, output) channels.
        direction: "AtoB" or "BtoA".
        runtime: `runtime_files(...)` to copy into litertjs/, or None: the page loads them from `CDN_ROOT`.
    """
    base = f"./{RUNTIME_DIR}/{{}}/" if runtime else CDN_ROOT + f"{{}}@{LITERTJS_VERSION}/"
    imports = {f"@litertjs/{name}": base.format(name) + "dist/index.js" for name in RUNTIME_FILES}
    page = resources.files(__package__) / "web_page"
    (folder / "index.html").write_text((page / "index.html").read_text().replace(
        "{{IMPORT_MAP}}", json.dumps({"imports": imports}, indent=1)))
    (folder / "translate.js").write_text((page / "translate.js").read_text())
    (folder / MODEL_JSON).write_text(json.dumps({
        "size": list(size), "channels": {"input": channels[0], "output": channels[1]}, "direction": direction,
        "layout": "NHWC", "range": [-1.0, 1.0], "normalisation": "x = pixel / 127.5 - 1; pixel = (y + 1) * 127.5",
        "models": models, "litertjs": LITERTJS_VERSION,
        "tfgan_translate": importlib_metadata.version("tfgan_translate")}, indent=2) + "\n")
    for relative, source in (runtime or {}).items():
        target = folder / RUNTIME_DIR / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


__all__ = ["CDN_ROOT", "FILE_NAMES", "LITERTJS_VERSION", "runtime_files", "write_page"]
