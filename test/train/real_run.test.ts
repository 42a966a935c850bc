// A short real DINO run on opencv-doc's street video (the demo's recipe): the student
// learns to match the teacher, and the teacher stays clear of the collapsed states.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { demoOptions } from "../../src/pretrain/demo.ts";
import { pretrain, resolveConfig } from "../../src/pretrain/pretrain.ts";
import { scratchDir } from "../helpers/videos.ts";

test("DINO on vtest.avi: the loss falls and the teacher does not collapse", async () => {
  const dir = scratchDir();
  const config = resolveConfig({
    ...demoOptions,
    steps: 100,
    logEvery: 5,
    out: join(dir, "run"),
    cacheDir: join(dir, "cache"),
    device: "cpu",
  });
  const { firstLoss } = await pretrain(config);
  const records = readFileSync(join(dir, "run", "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line));
  const uniform = Math.log(demoOptions.outDim);
  const losses = records.map((record) => record.loss as number);
  // At initialisation the student is no better than guessing (about log K); matching the
  // teacher takes it well below.
  assert.ok(firstLoss > uniform - 0.5, `first loss ${firstLoss}`);
  assert.ok(Math.min(...losses) < firstLoss - 0.4, `losses ${losses.map((l) => l.toFixed(2))}`);
  // Collapse has two ends: every sample uniform (entropy -> log K, KL -> 0) or every
  // sample on one prototype (entropy -> 0, KL -> log K). A collapsed run measured
  // entropy 0.98 log K and KL 0.005.
  for (const { step, teacher_entropy: entropy, teacher_kl_uniform: kl } of records) {
    assert.ok(entropy < 0.8 * uniform, `step ${step}: teacher entropy ${entropy} of ${uniform}`);
    assert.ok(entropy > 0.2 * uniform, `step ${step}: teacher entropy ${entropy}`);
    assert.ok(kl > 0.2 && kl < 0.8 * uniform, `step ${step}: KL to uniform ${kl}`);
  }
});
