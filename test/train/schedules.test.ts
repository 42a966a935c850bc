import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveConfig } from "../../src/pretrain/pretrain.ts";
import { buildSchedules, type ScheduleSettings } from "../../src/train/schedules.ts";

const settings: ScheduleSettings = {
  lr: 0.256,
  minLr: 0,
  batchSize: 256,
  warmupEpochs: 10,
  weightDecay: 0.04,
  weightDecayEnd: 0.4,
  teacherMomentum: 0.99,
};

/** The first iteration at the peak rate (the warm-up's last). */
const peakAt = (rate: Float64Array) => rate.indexOf(Math.max(...rate));

test("a warm-up in epochs spans those epochs, or the first tenth of a shorter run", () => {
  assert.equal(peakAt(buildSchedules(settings, 20, 600).learningRate), 199);
  // 600 iterations of 110 are 5.5 epochs, fewer than the 10 of the warm-up.
  assert.equal(peakAt(buildSchedules(settings, 110, 600).learningRate), 59);
});

test("a warm-up ratio spans that share of the run, however long an epoch is", () => {
  for (const itersPerEpoch of [7, 110, 938]) {
    const { learningRate } = buildSchedules({ ...settings, warmupRatio: 0.75 }, itersPerEpoch, 600);
    assert.equal(learningRate.length, 600);
    assert.equal(learningRate[0], 0);
    assert.equal(peakAt(learningRate), 449);
    assert.ok(Math.abs(learningRate[449] - 0.256) < 1e-15);
    assert.ok(Math.abs(learningRate[224] - (0.256 * 224) / 449) < 1e-15);
  }
  const whole = buildSchedules({ ...settings, warmupRatio: 1 }, 110, 600).learningRate;
  assert.equal(peakAt(whole), 599);
});

test("--warmup-epochs over a preset's warm-up ratio drops the ratio; --warmup-ratio over epochs keeps both", () => {
  const preset = resolveConfig({ method: "dora", preset: "cpu" });
  assert.equal(typeof preset.warmupRatio, "number");
  const epochs = resolveConfig({ method: "dora", preset: "cpu", warmupEpochs: 5 });
  assert.equal(epochs.warmupRatio, undefined);
  assert.equal(epochs.warmupEpochs, 5);
  const ratio = resolveConfig({ method: "dora", warmupRatio: 0.3 });
  assert.equal(ratio.warmupRatio, 0.3);
  assert.throws(() => resolveConfig({ method: "dora", warmupRatio: 1.5 }), /--warmup-ratio/);
});
