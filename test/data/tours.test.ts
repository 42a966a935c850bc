// The tours benchmark generator: same seed, same bytes; masks that are exactly the drawn
// garments with ids kept across frames; a probe-able video; a DAVIS layout our reader reads;
// a smoothly moving camera; one-line errors for bad input.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { runCommand } from "../../src/cli/command.ts";
import { command as toursCommand } from "../../src/cli/tours.ts";
import {
  davisAnnotationsDir,
  davisImagesDir,
  listFrameNames,
  listSequences,
  readIndexMask,
} from "../../src/data/davis.ts";
import { readImage, readJpegs } from "../../src/data/image_file.ts";
import { buildTour, type TourSettings } from "../../src/data/tours/build.ts";
import type { TourManifest } from "../../src/data/tours/manifest.ts";
import { sequenceName } from "../../src/data/tours/davis_sequences.ts";
import { listPhotos } from "../../src/data/tours/photos.ts";
import { frameBuffers, renderFrame } from "../../src/data/tours/render.ts";
import { heldOutScene, tourScene } from "../../src/data/tours/scenes.ts";
import { semanticAnnotationsDir } from "../../src/data/tours/semantic_maps.ts";
import { loadWorld } from "../../src/data/tours/world.ts";
import { InputError } from "../../src/errors.ts";
import { probeVideo } from "../../src/video/probe.ts";
import { scratchDir } from "../helpers/videos.ts";

const dir = scratchDir("onevideo-tours-");
const small: Omit<TourSettings, "out"> = {
  seed: 7,
  width: 64,
  height: 48,
  fps: 10,
  seconds: 3,
  density: 3,
  photos: 3,
  sequences: 2,
  sequenceFrames: 6,
};
const outA = join(dir, "a");
const outB = join(dir, "b");
const outOther = join(dir, "other");
const manifestA = await buildTour({ ...small, out: outA });
await buildTour({ ...small, out: outB });
await buildTour({ ...small, seed: 8, out: outOther });

/** Every file under a folder, relative path -> bytes. */
function filesUnder(root: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files.set(path.slice(root.length), readFileSync(path));
  }
  return files;
}

test("the same seed gives byte-identical video, masks, frames and description", () => {
  const a = filesUnder(outA);
  const b = filesUnder(outB);
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  assert.ok(a.has("/tour.mp4") && a.has("/tour.json") && a.has("/davis/ImageSets/2017/val.txt"));
  for (const [path, bytes] of a) assert.ok(bytes.equals(b.get(path)!), `${path} differs between two builds`);
});

test("another seed gives another tour", () => {
  const a = readFileSync(join(outA, "tour.mp4"));
  const other = readFileSync(join(outOther, "tour.mp4"));
  assert.ok(!a.equals(other));
  const otherManifest = JSON.parse(readFileSync(join(outOther, "tour.json"), "utf8")) as TourManifest;
  assert.notDeepEqual(otherManifest.objects, manifestA.objects);
});

test("the video probes with the expected frame count and size; tour.json describes it", async () => {
  const info = await probeVideo(join(outA, "tour.mp4"));
  assert.equal(info.frameCount, 30);
  assert.equal(info.width, 64);
  assert.equal(info.height, 48);
  assert.equal(info.fps, 10);
  const manifest = JSON.parse(readFileSync(join(outA, "tour.json"), "utf8")) as TourManifest;
  assert.deepEqual(manifest, JSON.parse(JSON.stringify(manifestA)));
  assert.equal(manifest.frames, 30);
  assert.equal(manifest.seed, 7);
  assert.equal(manifest.photos.length, 3);
  assert.ok(manifest.objects.length > 0);
  for (const object of manifest.objects) {
    assert.ok(object.label >= 0 && object.label < 10);
    assert.ok(object.start <= object.end && object.firstFrame <= object.lastFrame && object.lastFrame < 30);
    assert.equal(typeof object.className, "string");
  }
});

test("the DAVIS layout reads back with src/data/davis.ts", () => {
  const root = join(outA, "davis");
  const names = listSequences(root, "val");
  assert.deepEqual(names, [sequenceName(0), sequenceName(1)]);
  for (const name of names) {
    const frames = listFrameNames(join(davisImagesDir(root), name), ".jpg");
    assert.deepEqual(frames, ["00000", "00001", "00002", "00003", "00004", "00005"]);
    assert.deepEqual(listFrameNames(join(davisAnnotationsDir(root), name), ".png"), frames);
    const mask = readIndexMask(join(davisAnnotationsDir(root), name, "00000.png"));
    assert.equal(mask.width, 64);
    assert.equal(mask.height, 48);
  }
});

test("a sequence's JPEGs decoded in one ffmpeg are the frames read one by one", () => {
  const sequenceDir = join(davisImagesDir(join(outA, "davis")), sequenceName(0));
  const paths = listFrameNames(sequenceDir, ".jpg").map((name) => join(sequenceDir, `${name}.jpg`));
  for (const size of [
    { width: 64, height: 48 },
    { width: 40, height: 32 },
  ]) {
    const frames = readJpegs(paths, size);
    assert.equal(frames.length, paths.length);
    frames.forEach((frame, index) => assert.deepEqual(frame, readImage(paths[index], size)));
  }
  assert.throws(
    () => readJpegs([paths[0], join(sequenceDir, "missing.jpg")], { width: 64, height: 48 }),
    (error: Error) => error instanceof InputError && /image not found: .*missing\.jpg/.test(error.message),
  );
});

// The held-out scenes rendered again here, to compare the written masks with the renderer.
const world = loadWorld(small.seed, small.photos, small.height);
const size = { width: small.width, height: small.height, density: small.density };

test("masks are where the tinted garments were drawn, with ids kept across a sequence", () => {
  const root = join(outA, "davis");
  for (let index = 0; index < small.sequences; index++) {
    const name = sequenceName(index);
    const record = manifestA.davis.sequences[index];
    assert.ok(record.objects.length >= 1, `${name} tracks at least one object`);
    const scene = heldOutScene(world, small.seed, size, small.sequenceFrames / small.fps, index);
    const drawn = frameBuffers(small.width, small.height);
    const background = frameBuffers(small.width, small.height);
    for (let frame = 0; frame < small.sequenceFrames; frame++) {
      const t = frame / small.fps;
      renderFrame(scene, t, drawn);
      renderFrame(scene, t, background, false);
      const mask = readIndexMask(
        join(davisAnnotationsDir(root), name, `${String(frame).padStart(5, "0")}.png`),
      );
      if (frame === 0) {
        // Ids 1..k in order of appearance, every one present in the first frame.
        const present = [...new Set(mask.data)].filter((id) => id > 0).sort((a, b) => a - b);
        assert.deepEqual(
          present,
          record.objects.map((object) => object.davisId),
        );
      }
      for (const { davisId, objectId } of record.objects) {
        const object = scene.objects.find((candidate) => candidate.id === objectId)!;
        let mismatches = 0;
        let checked = 0;
        for (let pixel = 0; pixel < mask.data.length; pixel++) {
          // The same object under the same id in every frame: mask id <=> renderer id.
          if ((mask.data[pixel] === davisId) !== (drawn.ids[pixel] === objectId)) mismatches++;
          if (mask.data[pixel] !== davisId || checked >= 5 || pixel % 7 !== 0) continue;
          // A tinted pixel: the colour's channels rank like the tint's, and it covered the background.
          checked++;
          const rgb = [0, 1, 2].map((ch) => drawn.rgb[pixel * 3 + ch]);
          const strongest = object.tint.indexOf(Math.max(...object.tint));
          const weakest = object.tint.indexOf(Math.min(...object.tint));
          if (object.tint[strongest] - object.tint[weakest] > 0.3) assert.ok(rgb[strongest] > rgb[weakest]);
          assert.notDeepEqual(
            rgb,
            [0, 1, 2].map((ch) => background.rgb[pixel * 3 + ch]),
          );
        }
        assert.equal(
          mismatches,
          0,
          `${name} frame ${frame}: id ${davisId} is not object ${objectId}'s pixels`,
        );
      }
      // Untouched pixels show the background exactly.
      for (let pixel = 0; pixel < drawn.ids.length; pixel++) {
        if (drawn.ids[pixel] !== 0) continue;
        for (let ch = 0; ch < 3; ch++)
          assert.equal(drawn.rgb[pixel * 3 + ch], background.rgb[pixel * 3 + ch]);
      }
      // The JPEG is this frame (up to JPEG's loss).
      if (frame !== 0 && frame !== small.sequenceFrames - 1) continue;
      const jpeg = readImage(join(davisImagesDir(root), name, `${String(frame).padStart(5, "0")}.jpg`));
      let error = 0;
      for (let i = 0; i < jpeg.data.length; i++) error += Math.abs(jpeg.data[i] - drawn.rgb[i]);
      assert.ok(
        error / jpeg.data.length < 8,
        `${name} frame ${frame}: mean JPEG error ${error / jpeg.data.length}`,
      );
    }
  }
});

// Longer sequences, so that garments enter after the first frame.
const entering: Omit<TourSettings, "out"> = {
  ...small,
  seconds: 1,
  density: 6,
  sequences: 2,
  sequenceFrames: 30,
};
const outEntering = join(dir, "entering");
const manifestEntering = await buildTour({ ...entering, out: outEntering });

test("semantic maps label every drawn garment with 1 + its class, including late arrivals", () => {
  const classNames = manifestEntering.davis.semantic?.classNames;
  assert.deepEqual(classNames, ["background", ...world.classNames]);
  assert.equal(manifestEntering.davis.semantic?.folder, "SemanticAnnotations");
  const root = join(outEntering, "davis");
  const late = new Set<string>();
  for (let index = 0; index < entering.sequences; index++) {
    const name = sequenceName(index);
    const tracked = new Set(manifestEntering.davis.sequences[index].objects.map((object) => object.objectId));
    const sceneSize = { ...size, density: entering.density };
    const scene = heldOutScene(
      world,
      entering.seed,
      sceneSize,
      entering.sequenceFrames / entering.fps,
      index,
    );
    const labels = new Map(scene.objects.map((object) => [object.id, object.label]));
    const drawn = frameBuffers(entering.width, entering.height);
    const frames = listFrameNames(join(semanticAnnotationsDir(root), name), ".png");
    assert.equal(frames.length, entering.sequenceFrames);
    for (let frame = 0; frame < entering.sequenceFrames; frame++) {
      renderFrame(scene, frame / entering.fps, drawn);
      const map = readIndexMask(join(semanticAnnotationsDir(root), name, `${frames[frame]}.png`));
      assert.equal(map.width, entering.width);
      assert.equal(map.height, entering.height);
      for (let pixel = 0; pixel < map.data.length; pixel++) {
        const id = drawn.ids[pixel];
        const expected = id === 0 ? 0 : labels.get(id)! + 1;
        if (map.data[pixel] !== expected) {
          assert.fail(`${name} frame ${frame} pixel ${pixel}: ${map.data[pixel]}, expected ${expected}`);
        }
        if (id !== 0 && !tracked.has(id)) late.add(`${name}/${id}`);
      }
    }
  }
  assert.ok(late.size > 0, "some garment entered after frame 0 and is labelled");
});

test("the camera moves smoothly: neighbouring frames differ little, distant ones much", () => {
  const scene = tourScene(world, small.seed, { ...size, density: 0 }, 120);
  const render = (t: number) => {
    const buffers = frameBuffers(small.width, small.height);
    renderFrame(scene, t, buffers, false);
    return buffers.rgb;
  };
  const difference = (a: Uint8Array, b: Uint8Array) =>
    a.reduce((sum, v, i) => sum + Math.abs(v - b[i]), 0) / a.length;
  let near = 0;
  let far = 0;
  const starts = [0, 20, 40, 60];
  for (const t of starts) {
    near += difference(render(t), render(t + 1 / small.fps));
    far += difference(render(t), render(t + 30));
  }
  near /= starts.length;
  far /= starts.length;
  assert.ok(near < 8, `consecutive frames differ by ${near} on average`);
  assert.ok(far > 3 * near && far > 20, `frames 30 s apart differ by ${far} (neighbours ${near})`);
});

test("bad input is one InputError line", async () => {
  const file = join(dir, "a-file");
  writeFileSync(file, "");
  const cases: [Record<string, string>, RegExp][] = [
    [{ out: join(file, "below") }, /cannot write the tour to --out/],
    [{ out: "/proc/onevideo-tours" }, /cannot write the tour to --out/],
    [{ out: join(dir, "c"), width: "17" }, /--width: must be even/],
    [{ out: join(dir, "c"), height: "-4" }, /--height/],
    [{ out: join(dir, "c"), fps: "0" }, /--fps/],
    [{ out: join(dir, "c"), seconds: "2", minutes: "1" }, /--minutes or --seconds/],
    [{ out: join(dir, "c"), seconds: "0.01" }, /no frames/],
    [{ out: join(dir, "c"), colour: "red" }, /unknown option/],
    [{}, /needs --out/],
  ];
  for (const [options, message] of cases) {
    const argv = Object.entries(options).flatMap(([key, value]) => [`--${key}`, value]);
    await assert.rejects(
      runCommand(toursCommand, argv),
      (error: Error) => error instanceof InputError && message.test(error.message),
    );
  }
  // Through the command line: one line on stderr, exit 1.
  const cli = fileURLToPath(new URL("../../bin/onevideo.js", import.meta.url));
  const result = spawnSync(process.execPath, [cli, "tours", "--out", join(file, "x"), "--seconds", "1"], {
    encoding: "utf8",
  });
  assert.equal(result.status, 1);
  assert.match(result.stderr, /^onevideo: cannot write the tour to --out .*\n$/);
});

test("missing photo packages are named with the apt-get line that installs them", () => {
  // A dpkg that knows no packages, first on PATH.
  const bin = join(dir, "bin");
  const fake = join(bin, "dpkg");
  spawnSync("mkdir", ["-p", bin]);
  writeFileSync(fake, "#!/bin/sh\necho \"dpkg-query: package '$2' is not installed\" >&2\nexit 1\n");
  chmodSync(fake, 0o755);
  const path = process.env.PATH;
  process.env.PATH = `${bin}:${path}`;
  try {
    assert.throws(
      listPhotos,
      (error: Error) =>
        error instanceof InputError &&
        /apt-get install mate-backgrounds plasma-workspace-wallpapers/.test(error.message),
    );
  } finally {
    process.env.PATH = path;
  }
});
