// The page of a web export: it loads model.onnx with onnxruntime-web (its WebAssembly build,
// one thread, so no cross-origin isolation is needed), runs the bundled sample (the input
// onevideo prepared with DINO's evaluation view) and any image the user picks (prepared by
// the canvas: the short side scaled to 256/224 of the size, the centre square, ImageNet's mean
// and std), and draws each head's [CLS] attention over the image. When the sample has run, the
// body's data-ready is "1" and #result holds its [CLS] output as JSON.

export interface WebPageMeta {
  title: string;
  imageSize: number;
  patchSize: number;
  heads: number;
  dim: number;
  mean: readonly number[];
  std: readonly number[];
}

export function webPageHtml(meta: WebPageMeta): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<title>${meta.title}</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
  .maps { display: flex; flex-wrap: wrap; gap: 10px; }
  figure { margin: 0; text-align: center; font-size: 0.85em; }
  canvas { width: 192px; height: 192px; image-rendering: pixelated; border: 1px solid #ccc; }
  pre { font-size: 0.75em; white-space: pre-wrap; max-height: 8em; overflow: auto; }
</style>
<script src="ort.wasm.min.js"></script>
</head>
<body data-ready="0">
<h1>${meta.title}</h1>
<p>The [CLS] attention of each of the ${meta.heads} heads of the last block over the image
(${meta.imageSize} px, patches of ${meta.patchSize}). Pick an image: <input type="file" id="pick" accept="image/*"></p>
<p id="status">loading the model...</p>
<div class="maps" id="maps"></div>
<pre id="result"></pre>
<script type="module">
const meta = ${JSON.stringify(meta)};
const size = meta.imageSize;
const grid = size / meta.patchSize;
ort.env.wasm.numThreads = 1;
ort.env.wasm.wasmPaths = "./";
const session = await ort.InferenceSession.create("model.onnx", { executionProviders: ["wasm"] });
const status = document.getElementById("status");

/** The view's RGB bytes back from a normalised [1, 3, size, size] input. */
function viewOf(pixels) {
  const rgba = new ImageData(size, size);
  for (let i = 0; i < size * size; i++) {
    for (let c = 0; c < 3; c++) {
      const value = (pixels[c * size * size + i] * meta.std[c] + meta.mean[c]) * 255;
      rgba.data[i * 4 + c] = Math.max(0, Math.min(255, Math.round(value)));
    }
    rgba.data[i * 4 + 3] = 255;
  }
  return rgba;
}

/** An image file as the model's input: short side to 256/224 of the size, the centre square. */
async function inputOf(file) {
  const bitmap = await createImageBitmap(file);
  const short = Math.round((size * 256) / 224);
  const scale = short / Math.min(bitmap.width, bitmap.height);
  const canvas = new OffscreenCanvas(size, size);
  const context = canvas.getContext("2d");
  context.imageSmoothingQuality = "high";
  const width = bitmap.width * scale;
  const height = bitmap.height * scale;
  context.drawImage(bitmap, (size - width) / 2, (size - height) / 2, width, height);
  const rgba = context.getImageData(0, 0, size, size).data;
  const pixels = new Float32Array(3 * size * size);
  for (let i = 0; i < size * size; i++) {
    for (let c = 0; c < 3; c++) pixels[c * size * size + i] = (rgba[i * 4 + c] / 255 - meta.mean[c]) / meta.std[c];
  }
  return pixels;
}

function figure(caption, draw) {
  const canvas = document.createElement("canvas");
  canvas.width = size;
  canvas.height = size;
  draw(canvas.getContext("2d"));
  const element = document.createElement("figure");
  element.append(canvas, Object.assign(document.createElement("figcaption"), { textContent: caption }));
  return element;
}

async function show(pixels) {
  const outputs = await session.run({ images: new ort.Tensor("float32", pixels, [1, 3, size, size]) });
  const view = viewOf(pixels);
  const attention = outputs.attention.data;
  const maps = [figure("image", (context) => context.putImageData(view, 0, 0))];
  for (let head = 0; head < meta.heads; head++) {
    const row = attention.subarray(head * grid * grid, (head + 1) * grid * grid);
    let low = Infinity, high = -Infinity;
    for (const value of row) { low = Math.min(low, value); high = Math.max(high, value); }
    maps.push(figure("head " + head, (context) => {
      context.putImageData(view, 0, 0);
      for (let i = 0; i < grid * grid; i++) {
        const weight = (row[i] - low) / (high - low || 1);
        context.fillStyle = "rgba(255, 40, 0, " + (0.75 * weight).toFixed(3) + ")";
        context.fillRect((i % grid) * meta.patchSize, Math.floor(i / grid) * meta.patchSize, meta.patchSize, meta.patchSize);
      }
    }));
  }
  document.getElementById("maps").replaceChildren(...maps);
  return outputs;
}

document.getElementById("pick").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  if (!file) return;
  status.textContent = "running on " + file.name + "...";
  await show(await inputOf(file));
  status.textContent = file.name;
});

const sample = new Float32Array(await (await fetch("sample.f32")).arrayBuffer());
const outputs = await show(sample);
status.textContent = "the bundled sample";
document.getElementById("result").textContent = JSON.stringify({ dims: outputs.cls.dims, cls: Array.from(outputs.cls.data) });
document.body.dataset.ready = "1";
</script>
</body>
</html>
`;
}
