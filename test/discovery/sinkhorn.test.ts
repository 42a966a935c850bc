// Sinkhorn–Knopp: marginals, agreement with a direct python3-torch implementation, and
// finite plans for extreme scores.
import assert from "node:assert/strict";
import { test } from "node:test";
import { sinkhornKnopp } from "../../src/discovery/sinkhorn.ts";
import { manualSeed, randn } from "../../src/torch/index.ts";
import { maxAbsDiff, runTorch } from "../helpers/python.ts";

test("after the iterations every patch's column sums to 1 and every prototype's row to N/K", () => {
  manualSeed(0);
  const scores = randn([2, 3, 40]).mul(0.3); // two clips, 3 prototypes, 40 patches
  const plan = sinkhornKnopp(scores);
  const columns = plan.sum(-2).toArray();
  const rows = plan.sum(-1).toArray();
  assert.ok(
    columns.every((sum) => Math.abs(sum - 1) < 1e-5),
    `columns ${columns.slice(0, 5)}`,
  );
  // The last step balances the columns exactly; the rows converge towards N/K.
  assert.ok(
    rows.every((sum) => Math.abs(sum - 40 / 3) < 0.01 * (40 / 3)),
    `rows ${rows}`,
  );
  assert.ok(plan.toArray().every((value) => value >= 0));
});

test("equals the direct (exponentiate, then normalise) algorithm in python3-torch", () => {
  const scores = randn([4, 25]).mul(0.2);
  const reference = runTorch(
    `
q = torch.exp(inputs["scores"].double() / 0.05)
q /= q.sum()
k, n = q.shape
for _ in range(30):
    q /= q.sum(dim=1, keepdim=True)
    q /= k
    q /= q.sum(dim=0, keepdim=True)
    q /= n
outputs["plan"] = (q * n).float()
`,
    new Map([["scores", scores]]),
  );
  const plan = sinkhornKnopp(scores, { iterations: 30, epsilon: 0.05 });
  assert.ok(maxAbsDiff(plan, reference.get("plan")!) < 1e-5);
});

test("extreme scores give a finite plan that still balances the prototypes", () => {
  // Scores of +-1000 over epsilon 0.05 are exp(+-20000): the direct algorithm overflows.
  const scores = randn([3, 30]).sign().mul(1000);
  const plan = sinkhornKnopp(scores, { iterations: 30, epsilon: 0.05 });
  const values = plan.toArray();
  assert.ok(values.every(Number.isFinite), "no NaN or infinity");
  const columns = plan.sum(0).toArray();
  assert.ok(columns.every((sum) => Math.abs(sum - 1) < 1e-4));
});
