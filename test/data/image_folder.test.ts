// Image folders: listing by class, decoding to square images, the same pixels as ffmpeg gives.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ImageFolderSource, listImageFolder } from "../../src/data/image_folder.ts";
import { scratchDir, syntheticImage } from "../helpers/videos.ts";

const dir = scratchDir();
const root = join(dir, "images");

mkdirSync(join(root, "cats"), { recursive: true });
mkdirSync(join(root, "dogs"), { recursive: true });
syntheticImage(join(root, "cats", "a.png"), "40x30", "red");
syntheticImage(join(root, "cats", "b.jpg"), "20x50", "blue");
syntheticImage(join(root, "dogs", "c.png"), "64x64", "lime");
writeFileSync(join(root, "dogs", "notes.txt"), "ignored: not an image");

test("the ImageFolder layout: classes sorted, labels by folder, non-images ignored", () => {
  const listing = listImageFolder(root);
  assert.deepEqual(listing.classes, ["cats", "dogs"]);
  assert.deepEqual(listing.labels, [0, 0, 1]);
  assert.equal(listing.files.length, 3);
});

test("images are cached as centre squares at the asked size and batched in [0, 1]", async () => {
  const source = await ImageFolderSource.open(root, { side: 16, seed: 0, cacheRoot: join(dir, "cache") });
  assert.equal(source.size, 3);
  const batch = source.batch([2, 0], "cpu");
  assert.deepEqual(batch.shape, [2, 3, 16, 16]);
  const [green, red] = [batch.select(0, 0).mean([1, 2]).toArray(), batch.select(0, 1).mean([1, 2]).toArray()];
  assert.ok(green[1] > 0.9 && green[0] < 0.1, `lime: ${green}`);
  assert.ok(red[0] > 0.9 && red[2] < 0.1, `red: ${red}`);
  assert.deepEqual([...source.order(0)].sort(), [0, 1, 2]);
  source.close();
});

test("bad folders are clear errors", async () => {
  assert.throws(() => listImageFolder(join(dir, "missing")), /image folder not found/);
  mkdirSync(join(dir, "empty", "class"), { recursive: true });
  assert.throws(() => listImageFolder(join(dir, "empty")), /holds no images in the ImageFolder layout/);
  mkdirSync(join(dir, "broken", "class"), { recursive: true });
  writeFileSync(join(dir, "broken", "class", "fake.jpg"), "not a jpeg");
  await assert.rejects(
    ImageFolderSource.open(join(dir, "broken"), { side: 16, seed: 0, cacheRoot: join(dir, "cache") }),
    /fake\.jpg is not an image ffmpeg can read/,
  );
});
