// DAVIS-2017 semi-supervised scoring on the tiny fixture, with the scores worked out by hand.
import assert from "node:assert/strict";
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { writeIndexMask } from "../../src/data/davis.ts";
import { scoreDavis } from "../../src/eval/davis_score.ts";
import { InputError } from "../../src/errors.ts";
import { writePng } from "../../src/image/png.ts";
import { scratchDir } from "../helpers/videos.ts";
import { paint, writeDavisFixture } from "../helpers/davis_fixture.ts";

const dir = scratchDir();
const { gt, pred } = writeDavisFixture(dir);

function near(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual}, expected ${expected}`);
}

// Both images are small enough that F's tolerance is ceil(0.008 * diagonal) = 1 pixel.
// Sequence "a", scored on frames 00001 and 00002 only:
//   object 1: frame 1 exact (J 1, F 1). Frame 2 predicts the left half (8 of 16 pixels):
//     J = 1/2. The 4x4 square's boundary is the 16-pixel ring of the box x, y 1..5, the
//     half's the 12-pixel ring of x 1..3, y 1..5. Within 1 pixel, 11 of the 12 predicted
//     ring pixels touch the true ring (all but (3, 3)), and 11 of the 16 true ones touch
//     the predicted ring (not (5, 1..5)): F = 2 * 11 / (12 + 16) = 11/14.
//     Means: J 3/4, F (1 + 11/14) / 2 = 25/28.
//   object 2: frame 1 missed (J 0; no predicted boundary: P 1, R 0, F 0), frame 2 exact:
//     J 1/2, F 1/2.
// Sequence "b", frame 00001: the prediction covers the object (4 pixels) and the void area
//   (4 pixels). davis2017-evaluation's void mask is always empty, and 255 is background:
//   J = 4/8; the extra square adds 8 boundary pixels far from the true 8: P 1/2, R 1, F 2/3.
//   With void left out, both are 1.
const expectedA = { 1: { J: 3 / 4, F: 25 / 28 }, 2: { J: 1 / 2, F: 1 / 2 } };
const expectedB = { J: 1 / 2, F: 2 / 3 };

test("J and F per object, per sequence, and as means over all objects", () => {
  const score = scoreDavis(pred, gt);
  assert.deepEqual(Object.keys(score.sequences), ["a", "b"]);
  assert.deepEqual(Object.keys(score.sequences.a.objects), ["1", "2"]);
  assert.deepEqual(Object.keys(score.sequences.b.objects), ["1"], "255 is void, not an object");
  for (const id of [1, 2] as const) {
    near(score.sequences.a.objects[id].J, expectedA[id].J, `a/${id} J`);
    near(score.sequences.a.objects[id].F, expectedA[id].F, `a/${id} F`);
  }
  near(score.sequences.a.J, (3 / 4 + 1 / 2) / 2, "a J");
  near(score.sequences.a.F, (25 / 28 + 1 / 2) / 2, "a F");
  near(score.sequences.b.objects[1].J, expectedB.J, "b/1 J");
  near(score.sequences.b.objects[1].F, expectedB.F, "b/1 F");
  // Means over the three objects, not over the two sequences.
  const J = (3 / 4 + 1 / 2 + 1 / 2) / 3;
  const F = (25 / 28 + 1 / 2 + 2 / 3) / 3;
  near(score.J, J, "J");
  near(score.F, F, "F");
  near(score.JF, (J + F) / 2, "JF");
});

test("void pixels are left out on request (davis2017-evaluation's own void mask is always empty)", () => {
  const score = scoreDavis(pred, gt, { excludeVoid: true });
  assert.deepEqual(score.sequences.b.objects[1], { J: 1, F: 1 });
  near(score.sequences.a.J, (3 / 4 + 1 / 2) / 2, "sequence a has no void: unchanged");
});

test("a perfect prediction scores 1, whatever the first and last frames hold", () => {
  const perfect = join(dir, "perfect");
  cpSync(gt, perfect, { recursive: true });
  for (const sequence of ["a", "b"]) rmSync(join(perfect, sequence, "00000.png"));
  writeIndexMask(join(perfect, "a", "00003.png"), paint(12, 10, [2, 0, 0, 11, 9]));
  // Predictions hold no void (255 would be an object id too high); void counts as background.
  writeIndexMask(join(perfect, "b", "00001.png"), paint(10, 8, [1, 1, 1, 2, 2]));
  const score = scoreDavis(perfect, gt);
  assert.deepEqual([score.J, score.F, score.JF], [1, 1, 1]);
});

test("a DAVIS root is read through Annotations/480p and its val list", () => {
  const root = join(dir, "DAVIS");
  mkdirSync(join(root, "ImageSets", "2017"), { recursive: true });
  cpSync(gt, join(root, "Annotations", "480p"), { recursive: true });
  writeFileSync(join(root, "ImageSets", "2017", "val.txt"), "b\n");
  assert.deepEqual(Object.keys(scoreDavis(pred, root).sequences), ["b"]);
  writeFileSync(join(root, "ImageSets", "2017", "train.txt"), "a\nb\n");
  assert.deepEqual(Object.keys(scoreDavis(pred, root, { split: "train" }).sequences), ["a", "b"]);
  assert.deepEqual(Object.keys(scoreDavis(pred, root, { sequences: ["a"] }).sequences), ["a"]);
  assert.throws(() => scoreDavis(pred, root, { split: "test-dev" }), /split list not found/);
});

test("bad predictions are input errors naming the file and the fix", () => {
  const broken = (name: string, change: (predDir: string) => void): string => {
    const copy = join(dir, name);
    cpSync(pred, copy, { recursive: true });
    change(copy);
    return copy;
  };
  const cases: [string, RegExp][] = [
    [
      broken("missing", (p) => rmSync(join(p, "a", "00002.png"))),
      /prediction frame missing: .*a\/00002\.png/,
    ],
    [
      broken("no-seq", (p) => rmSync(join(p, "b"), { recursive: true })),
      /prediction sequence folder missing/,
    ],
    [
      broken("size", (p) => writeIndexMask(join(p, "a", "00001.png"), paint(6, 5))),
      /00001\.png is 6x5 but its annotation is 12x10/,
    ],
    [
      broken("rgb", (p) =>
        writePng(join(p, "a", "00001.png"), {
          width: 12,
          height: 10,
          channels: 3,
          data: new Uint8Array(360),
        }),
      ),
      /00001\.png is an RGB PNG, whose colours cannot be read as object ids/,
    ],
    [
      broken("id", (p) => writeIndexMask(join(p, "a", "00002.png"), paint(12, 10, [3, 0, 0, 1, 1]))),
      /00002\.png holds object id 3 but the sequence has 2 objects/,
    ],
    [
      broken("void-id", (p) => writeIndexMask(join(p, "b", "00001.png"), paint(10, 8, [255, 0, 0, 1, 1]))),
      /holds object id 255 but the sequence has 1 object;/,
    ],
  ];
  for (const [predDir, expected] of cases) {
    assert.throws(
      () => scoreDavis(predDir, gt),
      (error: Error) => {
        assert.ok(error instanceof InputError, String(error));
        assert.match(error.message, expected);
        assert.equal(error.message.split("\n").length, 1);
        return true;
      },
    );
  }
  assert.throws(() => scoreDavis(join(dir, "nowhere"), gt), /prediction folder not found/);
});
