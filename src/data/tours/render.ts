// One frame of a tour: the camera's view of the strip, sampled bilinearly, with the objects
// on screen drawn over it back to front. Alongside the colours it writes which object each
// pixel shows, so the ground-truth masks are exactly the pixels the garments were drawn on.
import { fashionMnistSide } from "../fashion_mnist.ts";
import type { Camera } from "./camera.ts";
import { crossingRange, objectPosition, type TourObject } from "./objects.ts";
import type { Strip } from "./strip.ts";

export interface Scene {
  width: number;
  height: number;
  strip: Strip;
  camera: Camera;
  /** Sorted by start time. */
  objects: TourObject[];
  /** Fashion-MNIST training images, count x 28 x 28 bytes. */
  garments: Uint8Array;
}

export interface FrameBuffers {
  /** height x width x 3 bytes. */
  rgb: Uint8Array;
  /** height x width object ids, 0 background. */
  ids: Int32Array;
}

/** Garment pixels at least this bright (of 255) are drawn; the rest is the silhouette's outside. */
export const alphaThreshold = 40;
// Darker parts of a garment are shaded darker, so its texture survives the tint.
const shadeFloor = 0.35;

export function frameBuffers(width: number, height: number): FrameBuffers {
  return { rgb: new Uint8Array(width * height * 3), ids: new Int32Array(width * height) };
}

/** The objects on screen at time t, back to front. */
export function visibleObjects(objects: readonly TourObject[], t: number): TourObject[] {
  // Binary search for the first object that may still be on screen: none crosses for longer.
  let low = 0;
  let high = objects.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (objects[mid].start <= t - crossingRange[1]) low = mid + 1;
    else high = mid;
  }
  const result: TourObject[] = [];
  for (let i = low; i < objects.length && objects[i].start <= t; i++)
    if (objects[i].end > t) result.push(objects[i]);
  return result.sort((a, b) => a.depth - b.depth || a.id - b.id);
}

function drawBackground(scene: Scene, t: number, rgb: Uint8Array): [number, number, number] {
  const { width, height, strip } = scene;
  const view = scene.camera.at(t);
  // The mapping is axis-aligned, so each column's and row's taps are computed once.
  const x0 = new Int32Array(width);
  const x1 = new Int32Array(width);
  const fx = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const sx = view.x + (x + 0.5 - width / 2) * view.scale - 0.5;
    const floor = Math.floor(sx);
    const wrapped = ((floor % strip.width) + strip.width) % strip.width;
    x0[x] = wrapped * 3;
    x1[x] = ((wrapped + 1) % strip.width) * 3;
    fx[x] = sx - floor;
  }
  const [gr, gg, gb] = view.gain;
  const data = strip.data;
  const rowStride = strip.width * 3;
  for (let y = 0; y < height; y++) {
    const sy = Math.min(strip.height - 1, Math.max(0, view.y + (y + 0.5 - height / 2) * view.scale - 0.5));
    const top = Math.min(strip.height - 2, Math.floor(sy));
    const fy = sy - top;
    const row0 = top * rowStride;
    const row1 = (top + 1) * rowStride;
    let out = y * width * 3;
    for (let x = 0; x < width; x++) {
      const w = fx[x];
      const a = row0 + x0[x];
      const b = row0 + x1[x];
      const c = row1 + x0[x];
      const d = row1 + x1[x];
      for (let ch = 0; ch < 3; ch++) {
        const upper = data[a + ch] + w * (data[b + ch] - data[a + ch]);
        const lower = data[c + ch] + w * (data[d + ch] - data[c + ch]);
        const gain = ch === 0 ? gr : ch === 1 ? gg : gb;
        // Uint8Array assignment truncates (and wraps above 255): + 0.5 rounds, min clamps.
        rgb[out++] = Math.min(255, gain * (upper + fy * (lower - upper)) + 0.5);
      }
    }
  }
  return view.gain;
}

/** A garment's brightness at sprite coordinates (u, v) in 28 x 28 pixels, 0 outside. */
function garmentAt(garments: Uint8Array, base: number, u: number, v: number): number {
  const side = fashionMnistSide;
  const u0 = Math.floor(u);
  const v0 = Math.floor(v);
  const fu = u - u0;
  const fv = v - v0;
  const at = (x: number, y: number) =>
    x < 0 || y < 0 || x >= side || y >= side ? 0 : garments[base + y * side + x];
  const upper = at(u0, v0) + fu * (at(u0 + 1, v0) - at(u0, v0));
  const lower = at(u0, v0 + 1) + fu * (at(u0 + 1, v0 + 1) - at(u0, v0 + 1));
  return upper + fv * (lower - upper);
}

function drawObject(
  scene: Scene,
  object: TourObject,
  t: number,
  gain: [number, number, number],
  buffers: FrameBuffers,
): void {
  const { width, height, garments } = scene;
  const [left, top] = objectPosition(object, t);
  const step = fashionMnistSide / object.size;
  const base = object.sample * fashionMnistSide * fashionMnistSide;
  const colour = object.tint.map((c, ch) => c * gain[ch] * 255);
  for (let y = Math.max(0, Math.floor(top)); y < Math.min(height, Math.ceil(top + object.size)); y++) {
    const v = (y + 0.5 - top) * step - 0.5;
    for (let x = Math.max(0, Math.floor(left)); x < Math.min(width, Math.ceil(left + object.size)); x++) {
      const intensity = garmentAt(garments, base, (x + 0.5 - left) * step - 0.5, v);
      if (intensity < alphaThreshold) continue;
      const shade = shadeFloor + ((1 - shadeFloor) * intensity) / 255;
      const pixel = y * width + x;
      for (let ch = 0; ch < 3; ch++) buffers.rgb[pixel * 3 + ch] = Math.min(255, colour[ch] * shade + 0.5);
      buffers.ids[pixel] = object.id;
    }
  }
}

/** Renders time t into the buffers; without objects, the background alone. */
export function renderFrame(scene: Scene, t: number, buffers: FrameBuffers, withObjects = true): void {
  const gain = drawBackground(scene, t, buffers.rgb);
  buffers.ids.fill(0);
  if (!withObjects) return;
  for (const object of visibleObjects(scene.objects, t)) drawObject(scene, object, t, gain, buffers);
}
