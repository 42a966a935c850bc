// The DAVIS layout: split lists, sorted frames, palette masks written and read back.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import {
  davisPalette,
  listFrameNames,
  listSequences,
  readIndexMask,
  writeIndexMask,
} from "../../src/data/davis.ts";
import { InputError } from "../../src/errors.ts";
import { writePng } from "../../src/image/png.ts";
import { decodePng } from "../../src/image/png_decode.ts";
import { scratchDir } from "../helpers/videos.ts";

const dir = scratchDir();

test("DAVIS's palette: black, then the VOC bit-interleaved colours", () => {
  const palette = davisPalette();
  assert.equal(palette.length, 256);
  assert.deepEqual(palette.slice(0, 5), [
    [0, 0, 0],
    [128, 0, 0], // bit 0 -> red's top bit
    [0, 128, 0],
    [128, 128, 0],
    [0, 0, 128],
  ]);
  assert.deepEqual(palette[8], [64, 0, 0]); // the fourth bit goes to red's second bit
  assert.deepEqual(palette[255], [224, 224, 192]); // the void colour
});

test("masks are written as palette PNGs and read back as object ids", () => {
  const mask = {
    width: 5,
    height: 3,
    data: Uint8Array.from([0, 1, 2, 255, 0, 1, 1, 2, 2, 0, 0, 0, 3, 3, 3]),
  };
  const path = join(dir, "mask.png");
  writeIndexMask(path, mask);
  const stored = decodePng(readFileSync(path));
  assert.equal(stored.color, "palette");
  assert.deepEqual(stored.palette![2], [0, 128, 0]);
  assert.deepEqual(readIndexMask(path), mask);
  // Greyscale masks carry ids too.
  writePng(join(dir, "grey.png"), { ...mask, channels: 1 });
  assert.deepEqual(readIndexMask(join(dir, "grey.png")), mask);
  writePng(join(dir, "rgb.png"), { width: 1, height: 1, channels: 3, data: Uint8Array.from([128, 0, 0]) });
  assert.throws(() => readIndexMask(join(dir, "rgb.png")), /is an RGB PNG, whose colours cannot be read/);
  assert.throws(() => readIndexMask(join(dir, "none.png")), /mask not found: .*none\.png/);
});

test("sequences come from a split list or the annotation folders; frames are sorted", () => {
  const root = join(dir, "DAVIS");
  for (const sequence of ["dog", "bear", "camel"]) {
    mkdirSync(join(root, "Annotations", "480p", sequence), { recursive: true });
  }
  mkdirSync(join(root, "ImageSets", "2017"), { recursive: true });
  writeFileSync(join(root, "ImageSets", "2017", "val.txt"), "dog\ncamel\n\n");
  assert.deepEqual(listSequences(root), ["bear", "camel", "dog"]);
  assert.deepEqual(listSequences(root, "val"), ["dog", "camel"]);
  assert.throws(() => listSequences(root, "train"), /DAVIS split list not found: .*train\.txt/);
  assert.throws(() => listSequences(join(dir, "elsewhere")), InputError);

  const frames = join(root, "JPEGImages", "480p", "dog");
  mkdirSync(frames, { recursive: true });
  for (const name of ["00010.jpg", "00002.jpg", "00000.jpg", "notes.txt"])
    writeFileSync(join(frames, name), "");
  assert.deepEqual(listFrameNames(frames, ".jpg"), ["00000", "00002", "00010"]);
  assert.throws(
    () => listFrameNames(join(root, "JPEGImages", "480p", "cat"), ".jpg"),
    /sequence folder not found/,
  );
  assert.throws(() => listFrameNames(frames, ".png"), /holds no \.png files/);
});
