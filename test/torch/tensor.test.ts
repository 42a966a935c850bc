// Tensors: data in and out, dtypes, memory management, autograd switches, RNG and errors.
import assert from "node:assert/strict";
import { test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import {
  arange,
  callOp,
  getRngState,
  keep,
  manualSeed,
  noGrad,
  ones,
  randn,
  scope,
  setRngState,
  type Tensor,
  tensor,
  zeros,
} from "../../src/torch/index.ts";
import { native } from "../../src/torch/native.ts";

test("data round-trips through every supported dtype", () => {
  const values = [0, 1, 2, -3, 4, 5];
  for (const dtype of [
    "float32",
    "float64",
    "int64",
    "int32",
    "int16",
    "int8",
    "float16",
    "bfloat16",
  ] as const) {
    const t = tensor(values, { dtype, shape: [2, 3] });
    assert.equal(t.dtype, dtype);
    assert.deepEqual(t.shape, [2, 3]);
    assert.deepEqual(t.toArray(), values, dtype);
  }
  assert.deepEqual(tensor([1, 0, 7], { dtype: "uint8" }).toArray(), [1, 0, 7]);
  assert.deepEqual(tensor([true, false]).toArray(), [1, 0]);
  assert.deepEqual(Array.from(tensor(new Float32Array([1.5, 2.5])).data() as Float32Array), [1.5, 2.5]);
});

test("16-bit floats round to their precision", () => {
  assert.equal(tensor([1 / 3], { dtype: "bfloat16" }).item(), 0.333984375);
  assert.equal(tensor([1 / 3], { dtype: "float16" }).item(), 0.333251953125);
});

test("arithmetic follows PyTorch's type promotion", () => {
  const ints = tensor([1, 2, 3], { dtype: "int64" });
  assert.equal(ints.mul(2).dtype, "int64");
  assert.equal(ints.mul(0.5).dtype, "float32");
  assert.deepEqual(ints.div(2).toArray(), [0.5, 1, 1.5]);
  assert.deepEqual(arange(4).toArray(), [0, 1, 2, 3]);
  assert.equal(arange(0, 1, 0.25).dtype, "float32");
});

test("shape helpers agree with PyTorch semantics", () => {
  const t = arange(24).reshape(2, 3, 4);
  assert.deepEqual(t.permute(2, 0, 1).shape, [4, 2, 3]);
  assert.deepEqual(t.flatten(1).shape, [2, 12]);
  assert.deepEqual(t.slice(2, 1, 3).toArray().slice(0, 4), [1, 2, 5, 6]);
  assert.deepEqual(t.select(1, 2).toArray(), [8, 9, 10, 11, 20, 21, 22, 23]);
  assert.deepEqual(t.sum([0, 2]).toArray(), [60, 92, 124]);
  const { values, indices } = tensor([3, 1, 4, 1, 5]).topk(2);
  assert.deepEqual(values.toArray(), [5, 4]);
  assert.deepEqual(indices.toArray(), [4, 2]);
  assert.equal(t.size(-1), 4);
  assert.throws(() => t.size(3), /out of range/);
});

test("in-place operators return the same Tensor object and change it", () => {
  const t = ones([3]);
  const result = t.mul_(4).add_(1);
  assert.equal(result, t);
  assert.deepEqual(t.toArray(), [5, 5, 5]);
  const before = native.liveTensors();
  for (let i = 0; i < 100; i++) t.add_(0);
  assert.equal(native.liveTensors(), before, "in-place calls must not create handles");
  // An op that returns its input without writing it (a no-op .to) gives a separate handle.
  const same = t.to("cpu");
  assert.notEqual(same, t);
  same.dispose();
  assert.deepEqual(t.toArray(), [5, 5, 5]);
});

test("scope disposes what it created except its result", () => {
  const outside = ones([2]);
  let inner: Tensor | undefined;
  const before = native.liveTensors();
  const kept = scope(() => {
    inner = outside.add(1);
    const temporary = inner.mul(2);
    return { result: temporary.sum(), list: [inner] };
  });
  assert.equal(inner!.isDisposed, false, "returned inside a list: kept");
  assert.equal(kept.result.item(), 8);
  assert.equal(outside.isDisposed, false);
  assert.equal(native.liveTensors(), before + 2);
  kept.result.dispose();
  inner!.dispose();
  assert.equal(native.liveTensors(), before);
});

test("nested scopes hand results outwards; keep() exempts a tensor", () => {
  const before = native.liveTensors();
  let survivor: Tensor | undefined;
  scope(() => {
    const fromInner = scope(() => zeros([2]).add(1));
    survivor = keep(fromInner.mul(3));
    assert.equal(fromInner.isDisposed, false);
  });
  assert.equal(survivor!.isDisposed, false);
  assert.deepEqual(survivor!.toArray(), [3, 3]);
  survivor!.dispose();
  assert.equal(native.liveTensors(), before);
});

test("a scope whose function throws still frees its tensors", () => {
  const before = native.liveTensors();
  assert.throws(() =>
    scope(() => {
      ones([4]).add(1);
      throw new Error("boom");
    }),
  );
  assert.equal(native.liveTensors(), before);
});

test("using a disposed tensor is a clear error", () => {
  const t = ones([2]);
  t.dispose();
  assert.throws(() => t.add(1), /disposed/);
  assert.throws(() => t.shape, /disposed/);
  t.dispose(); // twice is harmless
});

test("noGrad stops recording; requiresGrad only on float leaves", () => {
  const x = ones([2], { requiresGrad: true });
  const y = noGrad(() => x.mul(2));
  assert.equal(y.requiresGrad, false);
  const z = x.mul(2);
  assert.equal(z.requiresGrad, true);
  assert.match(z.gradFn!, /^MulBackward/);
  assert.throws(() => z.requiresGrad_(false), /leaf/);
  assert.throws(() => tensor([1], { dtype: "int64" }).requiresGrad_(), /floating-point/);
});

test("backward accumulates into .grad, which can be cleared", () => {
  const x = tensor([1, 2, 3], { requiresGrad: true });
  x.mul(x).sum().backward();
  x.mul(x).sum().backward();
  assert.deepEqual(x.grad!.toArray(), [4, 8, 12]);
  x.grad = null;
  assert.equal(x.grad, null);
});

test("restoring the generator state replays the same random numbers", () => {
  manualSeed(123);
  const first = randn([4]).toArray();
  manualSeed(123);
  assert.deepEqual(randn([4]).toArray(), first);
  const state = getRngState();
  const next = randn([5]).toArray();
  randn([7]);
  setRngState(state);
  assert.deepEqual(randn([5]).toArray(), next);
});

test("bad inputs are errors naming the operator and shapes; the process lives on", () => {
  const a = ones([2, 3]);
  assert.throws(() => a.matmul(ones([4, 5])), /aten::matmul.*\[2,3\] float32, \[4,5\] float32/);
  assert.throws(() => a.add(ones([4])), /aten::add\.Tensor.*size of tensor a \(3\) must match/);
  assert.throws(() => a.gather(1, ones([2, 1])), /aten::gather.*int64/);
  assert.throws(() => callOp("aten::no_such_op"), /unknown operator aten::no_such_op/);
  assert.throws(() => callOp("aten::add.Tensor", a), /missing argument 'other'/);
  assert.throws(() => callOp("aten::reshape", a, ["x"]), /expected an integer/);
  assert.throws(() => callOp("aten::add.Tensor", {}, a), /expected a tensor/);
  assert.throws(() => tensor([1, 2, 3], { shape: [2, 2] }), /do not fill shape/);
  assert.deepEqual(a.add(1).toArray(), [2, 2, 2, 2, 2, 2]);
});

test("tensors nobody disposed are freed once garbage collected", async () => {
  setFlagsFromString("--expose-gc");
  const collectGarbage = runInNewContext("gc") as () => void;
  const settle = async () => {
    for (let round = 0; round < 5; round++) {
      collectGarbage();
      await new Promise((resolve) => setImmediate(resolve)); // the registry's callbacks run between turns
    }
  };
  await settle(); // earlier tests' garbage goes first
  const before = native.liveTensors();
  (() => {
    for (let i = 0; i < 100; i++) ones([1000]); // dropped at once, never disposed
  })();
  assert.equal(native.liveTensors(), before + 100);
  await settle();
  assert.equal(native.liveTensors(), before);
});

test("a disposed handle never reaches the tensor that reuses its slot", () => {
  const first = ones([2]);
  const staleHandle = first.handle;
  first.dispose();
  const second = zeros([3]); // takes the freed slot
  assert.throws(() => native.shape(staleHandle), /disposed/);
  native.dispose(staleHandle); // a stale dispose is a no-op
  assert.deepEqual(second.toArray(), [0, 0, 0]);
});
