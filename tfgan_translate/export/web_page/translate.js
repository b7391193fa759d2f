// The page of an export written with --web: model.json -> LiteRT.js -> a photo in, its translation out.
// Contract (tfgan_translate/export/web.py): ?input=URL translates URL on load; ?accelerator=wasm|webgpu and
// ?precision=NAME choose; <canvas id="output"> gets the output at the model size, <pre id="timing">
// {"ms", "accelerator", "threads"}, and document.body.dataset.status "done" or "error: <message>".
import {loadLiteRt, loadAndCompile, Tensor} from "@litertjs/core";

const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
let info, model, accelerator, threads;

async function fetched(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response;
}

async function loadRuntime() {
  const wasm = new URL("../wasm/", import.meta.resolve("@litertjs/core")).href;
  if (self.crossOriginIsolated) {  // the server sent COOP/COEP: SharedArrayBuffer, so the threaded build
    try {
      if (new URL(wasm).origin !== location.origin) {  // workers start only from a same-origin (or blob) script
        self.Module = {mainScriptUrlOrBlob: await (await fetched(wasm + "litert_wasm_threaded_internal.js")).blob()};
      }
      return await loadLiteRt(wasm, {threads: true});
    } catch (error) {
      console.warn("Threaded WASM unavailable, single-threaded instead:", error);
      delete self.Module;
    }
  }
  return await loadLiteRt(wasm);
}

async function loadModel() {
  info = await (await fetched("model.json")).json();
  const precision = params.get("precision") || Object.keys(info.models)[0];
  if (!(precision in info.models)) throw new Error(`no ${precision} model; model.json has ${Object.keys(info.models)}`);
  accelerator = params.get("accelerator") ||
      (navigator.gpu && precision !== "int8" ? "webgpu" : "wasm");  // WebGPU int8: levels off LiteRT's
  if (!["wasm", "webgpu"].includes(accelerator)) throw new Error(`accelerator=${accelerator}: expected wasm or webgpu`);
  await loadRuntime();
  const bytes = new Uint8Array(await (await fetched(info.models[precision])).arrayBuffer());
  try {
    model = await loadAndCompile(bytes, {accelerator});
  } catch (error) {
    if (accelerator === "wasm") throw error;
    console.warn(`No ${accelerator} here (${error.message}): WASM instead`);
    model = await loadAndCompile(bytes, {accelerator: "wasm"});
  }
  accelerator = model.options.accelerator;  // what runs it, after any fallback
  threads = accelerator === "wasm" ? model.options.cpuOptions.numThreads : null;
  const [h, w] = info.size;
  await run(new Float32Array(h * w * info.channels.input));  // warm-up: the first run compiles shaders, plans
  $("about").textContent = `${info.direction} generator, ${w}x${h}, ${precision}: LiteRT.js ${info.litertjs} on ` +
      `${accelerator}${threads ? ` (${threads} thread${threads > 1 ? "s" : ""})` : ""}.`;
}

async function run(x) {
  const [h, w] = info.size;
  const input = new Tensor(x, [1, h, w, info.channels.input]);
  const [output] = await model.run(input);
  input.delete();
  const host = output.accelerator === "wasm" ? output : await output.copyTo("wasm");
  const y = host.toTypedArray().slice();
  output.delete();
  if (host !== output) host.delete();
  return y;
}

async function translate(source) {
  const [h, w] = info.size, cIn = info.channels.input, cOut = info.channels.output;
  const canvas = $("input");
  [canvas.width, canvas.height] = [w, h];
  const context = canvas.getContext("2d", {willReadFrequently: true});
  const [sw, sh] = [source.naturalWidth || source.width, source.naturalHeight || source.height];
  const scale = Math.min(sw / w, sh / h);  // center crop to the model's aspect, then resize
  context.imageSmoothingQuality = "high";
  context.drawImage(source, (sw - w * scale) / 2, (sh - h * scale) / 2, w * scale, h * scale, 0, 0, w, h);
  const pixels = context.getImageData(0, 0, w, h).data;
  const x = new Float32Array(h * w * cIn);
  for (let i = 0; i < h * w; i++) {
    const [r, g, b] = [pixels[4 * i], pixels[4 * i + 1], pixels[4 * i + 2]];
    if (cIn === 1) x[i] = ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16) / 127.5 - 1;  // PIL's "L"
    else [x[3 * i], x[3 * i + 1], x[3 * i + 2]] = [r / 127.5 - 1, g / 127.5 - 1, b / 127.5 - 1];
  }
  const start = performance.now();
  const y = await run(x);
  const ms = performance.now() - start;
  const image = new ImageData(w, h);  // Uint8ClampedArray: rounds half to even and clips to [0, 255]
  for (let i = 0; i < h * w; i++) {
    for (let k = 0; k < 3; k++) image.data[4 * i + k] = (y[cOut === 1 ? i : 3 * i + k] + 1) * 127.5;
    image.data[4 * i + 3] = 255;
  }
  const output = $("output");
  [output.width, output.height] = [w, h];
  output.getContext("2d").putImageData(image, 0, 0);
  $("timing").textContent = JSON.stringify({ms: Math.round(ms * 10) / 10, accelerator, threads});
}

async function guarded(step) {
  try {
    await step();
    document.body.dataset.status = "done";
  } catch (error) {
    console.error(error);
    document.body.dataset.status = `error: ${error.message || error}`;
  }
}

async function fromFile(event) {
  const file = event.target.files[0];
  if (file) await guarded(async () => translate(await createImageBitmap(file)));
}

await guarded(async () => {
  await loadModel();
  $("camera").onchange = $("file").onchange = fromFile;
  const url = params.get("input");
  if (!url) return;
  const image = new Image();
  image.crossOrigin = "anonymous";
  image.src = url;
  await image.decode();
  await translate(image);
});
if (!params.get("input") && document.body.dataset.status === "done") document.body.dataset.status = "ready";
