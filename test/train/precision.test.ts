// Mixed precision: bf16 autocast on the CPU (a DINO step's loss and gradients against
// fp32), fp16 loss scaling by hand-computed cases, and --precision on the command line.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { DinoConfig } from "../../src/methods/dino.ts";
import { resolveConfig } from "../../src/pretrain/pretrain.ts";
import { Random } from "../../src/util/random.ts";
import { DinoMethod } from "../../src/methods/dino.ts";
import { Linear } from "../../src/nn/index.ts";
import { autocast, manualSeed, noGrad, rand, randn, type Tensor, tensor } from "../../src/torch/index.ts";
import { GradScaler } from "../../src/train/grad_scaler.ts";
import { scratchDir } from "../helpers/videos.ts";

const cli = fileURLToPath(new URL("../../bin/onevideo.js", import.meta.url));
const dir = scratchDir();
// The runs hold checkpoints (tens of MB each): not left behind.
after(() => rmSync(dir, { recursive: true, force: true }));

function onevideo(...args: string[]) {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test("autocast switches matrix products to bf16 inside its region only, also when it throws", () => {
  const linear = new Linear(4, 3);
  using x = randn([2, 4]);
  using before = linear.forward(x);
  assert.equal(before.dtype, "float32");
  autocast("cpu", "bf16", () => {
    using inside = linear.forward(x);
    assert.equal(inside.dtype, "bfloat16");
    using transposed = x.t();
    using product = x.matmul(transposed);
    assert.equal(product.dtype, "bfloat16");
    assert.equal(linear.weight.dtype, "float32", "the parameters stay fp32");
  });
  assert.throws(() =>
    autocast("cpu", "bf16", () => {
      throw new Error("inside");
    }),
  );
  using after = linear.forward(x);
  assert.equal(after.dtype, "float32", "autocast is off again");
  assert.equal(
    autocast("cpu", "fp32", () => linear.forward(x).dtype),
    "float32",
  );
});

test("bf16 autocast on CPU: a ViT step runs in bf16 and its loss and gradients match fp32", () => {
  const config = <DinoConfig>resolveConfig({
    arch: "vit_tiny",
    patchSize: 8,
    imageSize: 32,
    outDim: 256,
    headHiddenDim: 256,
    bottleneckDim: 64,
    localCrops: 2,
    localCropSize: 16,
    dropPathRate: 0,
  });
  manualSeed(1);
  const images = rand([8, 3, 40, 40]);
  const run = (precision: "fp32" | "bf16") => {
    manualSeed(0);
    const method = new DinoMethod(config);
    manualSeed(5);
    let headDtype = "";
    const result = autocast("cpu", precision, () => {
      const step = method.step(images, { random: new Random(7), epoch: 0 });
      // The student's output (the head's last Linear) is in autocast's dtype. Looked at
      // after the step: autocast caches its casts of the weights for the region, and a
      // cast made under noGrad first would carry no graph into the step's forward.
      noGrad(() => {
        using crop = images.narrow(2, 0, 32).narrow(3, 0, 32);
        const [output] = method.student.forward([crop]);
        headDtype = output.dtype;
        output.dispose();
      });
      return step;
    });
    assert.equal(result.loss.dtype, "float32", "the loss is computed in fp32");
    result.loss.backward(); // outside the region, as the trainer does
    const gradients = new Map<string, Tensor>();
    for (const [name, parameter] of method.student.namedParameters()) {
      const gradient = parameter.grad;
      assert.ok(gradient, `${name} has a gradient`);
      gradients.set(name, gradient);
    }
    return { loss: result.loss.item(), headDtype, gradients };
  };
  const exact = run("fp32");
  const lower = run("bf16");
  assert.equal(exact.headDtype, "float32");
  assert.equal(lower.headDtype, "bfloat16", "autocast is active in the step");
  // Measured relative gaps 2.4e-3, 2.0e-4 and 9.9e-4 for three batches (bf16 keeps 8 bits
  // of mantissa, ~4e-3 per rounding).
  const gap = Math.abs(lower.loss - exact.loss) / Math.abs(exact.loss);
  assert.ok(gap < 1e-2, `loss ${lower.loss} (bf16) vs ${exact.loss} (fp32): relative gap ${gap}`);
  assert.ok(gap > 0, "bf16 changed the arithmetic");
  // Measured cosines: worst parameter 0.9976-0.9986, all gradients together 0.9991-0.9993.
  let worst = 1;
  const all = { dot: 0, lower: 0, exact: 0 };
  for (const [name, gradient] of lower.gradients) {
    const reference = exact.gradients.get(name)!;
    assert.equal(gradient.dtype, "float32", `${name}: fp32 master gradients`);
    using finite = gradient.isfinite();
    using allFinite = finite.all();
    assert.equal(allFinite.item(), 1, `${name} is finite`);
    using product = gradient.mul(reference);
    using dot = product.sum();
    using lowerSquares = gradient.square().sum();
    using exactSquares = reference.square().sum();
    const parts = { dot: dot.item(), lower: lowerSquares.item(), exact: exactSquares.item() };
    const similarity = parts.dot / Math.sqrt(parts.lower * parts.exact);
    assert.ok(similarity > 0.99, `${name}: cosine ${similarity}`);
    worst = Math.min(worst, similarity);
    all.dot += parts.dot;
    all.lower += parts.lower;
    all.exact += parts.exact;
  }
  assert.ok(worst < 0.99999, "the gradients are not fp32's own");
  const overall = all.dot / Math.sqrt(all.lower * all.exact);
  assert.ok(overall > 0.995, `all gradients: cosine ${overall}`);
});

test("GradScaler: scale the loss, unscale the gradients, skip and back off on overflow, grow after a clean run", () => {
  const scaler = new GradScaler(8, 2, 0.5, 3);
  using weight = tensor([1, 2, 3], { requiresGrad: true });
  using frozen = tensor([1], { requiresGrad: true }); // no gradient: skipped
  using target = tensor([0.5, 0.25, 2]);
  // loss = sum(weight * target): d loss / d weight = target.
  using loss = weight.mul(target).sum();
  using scaled = scaler.scaleLoss(loss);
  assert.equal(scaled.item(), 8 * (0.5 + 0.5 + 6));
  scaled.backward();
  using raw = weight.grad!;
  assert.deepEqual(raw.toArray(), [4, 2, 16], "backward of the scaled loss: 8 x target");
  assert.equal(scaler.unscale([weight, frozen]), true);
  using unscaled = weight.grad!;
  assert.deepEqual(unscaled.toArray(), [0.5, 0.25, 2], "divided back by the scale");
  assert.equal(frozen.grad, null);

  // An inf or a NaN anywhere: false, the step is to be skipped.
  weight.grad = tensor([1, Number.POSITIVE_INFINITY, 1]);
  assert.equal(scaler.unscale([weight]), false);
  weight.grad = tensor([1, 1, Number.NaN]);
  assert.equal(scaler.unscale([weight, frozen]), false);
  assert.equal(scaler.unscale([frozen]), true, "no gradients at all is not an overflow");

  // The scale: halves on overflow (and the clean run restarts), doubles after 3 clean steps.
  assert.deepEqual(scaler.state, { scale: 8, growthTracker: 0 });
  scaler.update(true);
  scaler.update(true);
  assert.deepEqual(scaler.state, { scale: 8, growthTracker: 2 });
  scaler.update(false);
  assert.deepEqual(scaler.state, { scale: 4, growthTracker: 0 });
  scaler.update(true);
  scaler.update(true);
  assert.equal(scaler.scale, 4);
  scaler.update(true);
  assert.deepEqual(scaler.state, { scale: 8, growthTracker: 0 });
  scaler.update(true);

  // The state goes into checkpoints and comes back.
  const saved = JSON.parse(JSON.stringify(scaler.state));
  const restored = new GradScaler(8, 2, 0.5, 3);
  restored.state = saved;
  assert.deepEqual(restored.state, { scale: 8, growthTracker: 1 });
  restored.update(true);
  restored.update(true);
  assert.equal(restored.scale, 16, "the restored counter carries on");
  // torch's defaults.
  const defaults = new GradScaler();
  assert.equal(defaults.scale, 65536);
  assert.equal(defaults.growthInterval, 2000);
});

test("--precision fp16 on the CPU is one line naming the fix; --precision bf16 trains and is recorded", () => {
  const refused = join(dir, "fp16");
  const fp16 = onevideo(
    "pretrain",
    "--dataset",
    "fashion-mnist",
    "--preset",
    "demo",
    "--device",
    "cpu",
    "--precision",
    "fp16",
    "--out",
    refused,
  );
  assert.equal(fp16.code, 1, fp16.stderr);
  assert.match(fp16.stderr, /--precision fp16 needs a GPU .*; use --precision bf16 or fp32/);
  assert.equal(fp16.stderr.trim().split("\n").length, 1, fp16.stderr);
  assert.ok(!existsSync(refused), "nothing written");
  const unknown = onevideo("pretrain", "--dataset", "fashion-mnist", "--precision", "fp8", "--out", refused);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /invalid option --precision/);
  assert.equal(unknown.stderr.trim().split("\n").length, 1, unknown.stderr);

  const out = join(dir, "bf16");
  const bf16 = onevideo(
    "pretrain",
    "--dataset",
    "fashion-mnist",
    "--preset",
    "demo",
    "--device",
    "cpu",
    "--precision",
    "bf16",
    "--steps",
    "2",
    "--batch-size",
    "4",
    "--local-crops",
    "0",
    "--log-every",
    "1",
    "--out",
    out,
  );
  assert.equal(bf16.code, 0, bf16.stderr);
  assert.match(bf16.stdout, /trained 2 steps/);
  assert.equal(JSON.parse(readFileSync(join(out, "config.json"), "utf8")).precision, "bf16");
  const losses = readFileSync(join(out, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as { loss: number; loss_scale?: number });
  assert.equal(losses.length, 2);
  for (const record of losses) {
    assert.ok(Number.isFinite(record.loss) && record.loss > 0, String(record.loss));
    assert.equal(record.loss_scale, undefined, "bf16 needs no loss scaling");
  }
  assert.ok(existsSync(join(out, "weights.safetensors")));
  // And fp32 stays the CPU's default.
  const plain = join(dir, "default");
  const fp32 = onevideo(
    "pretrain",
    "--dataset",
    "fashion-mnist",
    "--preset",
    "demo",
    "--device",
    "cpu",
    "--steps",
    "1",
    "--batch-size",
    "4",
    "--local-crops",
    "0",
    "--out",
    plain,
  );
  assert.equal(fp32.code, 0, fp32.stderr);
  assert.equal(JSON.parse(readFileSync(join(plain, "config.json"), "utf8")).precision, "fp32");
});
