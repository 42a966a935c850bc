// The mean and spread the demo and bench:one-video report, on values worked by hand.
import assert from "node:assert/strict";
import { test } from "node:test";
import { mean, sampleStandardDeviation } from "../../src/util/statistics.ts";

test("mean and sample standard deviation (n - 1) as computed by hand", () => {
  assert.equal(mean([1, 2, 3, 4]), 2.5);
  // Squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5, over n - 1 = 3.
  assert.ok(Math.abs(sampleStandardDeviation([1, 2, 3, 4]) - Math.sqrt(5 / 3)) < 1e-12);
  assert.equal(sampleStandardDeviation([61.0, 61.0]), 0);
  assert.equal(sampleStandardDeviation([7]), 0);
});
