// DINO's evaluation view (Resize(256/224 x size, bicubic) then CenterCrop(size), on PIL images)
// against torchvision and PIL themselves, given the same decoded pixels: within one 8-bit level
// on real photos, shrunk (512 -> 256), enlarged (194 -> 256) and at small sizes.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { evaluationResize } from "../../src/data/evaluation_view.ts";
import { readCenterCrop, readImage } from "../../src/data/image_file.ts";
import { referencePython } from "../helpers/python.ts";

const photos = ["HappyFish.jpg", "baboon.jpg", "fruits.jpg", "aero1.jpg"].map(
  (name) => `/usr/share/doc/opencv-doc/examples/data/${name}`,
);

function pillowView(pixels: Uint8Array, width: number, height: number, size: number): Buffer {
  return execFileSync(
    referencePython,
    [
      "-c",
      `
import sys
from PIL import Image
import torchvision.transforms as T
image = Image.frombytes("RGB", (${width}, ${height}), sys.stdin.buffer.read())
view = T.CenterCrop(${size})(T.Resize(round(${size} * 256 / 224), interpolation=T.InterpolationMode.BICUBIC)(image))
sys.stdout.buffer.write(view.tobytes())
`,
    ],
    { input: Buffer.from(pixels), maxBuffer: 1 << 24 },
  );
}

test("the evaluation view is torchvision's Resize + CenterCrop on PIL, to one 8-bit level", () => {
  for (const size of [224, 96, 32]) {
    for (const photo of photos) {
      const original = readImage(photo);
      const ours = readCenterCrop(photo, size);
      assert.equal(ours.data.length, size * size * 3);
      const theirs = pillowView(original.data, original.width, original.height, size);
      let worst = 0;
      for (let i = 0; i < theirs.length; i++) worst = Math.max(worst, Math.abs(ours.data[i] - theirs[i]));
      assert.ok(worst <= 1, `${photo} at ${size}: ${worst} levels apart`);
    }
  }
});

test("Resize's output size: the short side given, the long side truncated as torchvision does", () => {
  assert.deepEqual(evaluationResize(512, 480, 256), { width: 273, height: 256 });
  assert.deepEqual(evaluationResize(259, 194, 256), { width: 341, height: 256 });
  assert.deepEqual(evaluationResize(194, 259, 256), { width: 256, height: 341 });
});
