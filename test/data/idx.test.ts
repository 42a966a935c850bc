// IDX files (raw and gzipped, small ones written here and Debian's Fashion-MNIST), and the
// Fashion-MNIST loader and batches read from them.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import {
  fashionMnistBatch,
  fashionMnistClassNames,
  fashionMnistDefaultRoot,
  loadFashionMnist,
} from "../../src/data/fashion_mnist.ts";
import { parseIdx, readIdx } from "../../src/data/idx.ts";
import { tensor } from "../../src/torch/index.ts";
import { maxAbsDiff, runTorch } from "../helpers/python.ts";
import { scratchDir } from "../helpers/videos.ts";

const dir = scratchDir();

/** An IDX file's bytes: magic, big-endian sizes, then `data` as given. */
function idxBytes(typeByte: number, shape: number[], data: Buffer): Buffer {
  const header = Buffer.alloc(4 + 4 * shape.length);
  header[2] = typeByte;
  header[3] = shape.length;
  shape.forEach((size, dim) => header.writeUInt32BE(size, 4 + 4 * dim));
  return Buffer.concat([header, data]);
}

function write(name: string, bytes: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

test("uint8 IDX files, raw and gzipped, give their shape and bytes", () => {
  const pixels = Buffer.from([0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);
  const bytes = idxBytes(0x08, [2, 2, 3], pixels);
  for (const path of [write("small.idx", bytes), write("small.idx.gz", gzipSync(bytes))]) {
    const array = readIdx(path);
    assert.equal(array.type, "uint8");
    assert.deepEqual(array.shape, [2, 2, 3]);
    assert.ok(array.data instanceof Uint8Array);
    assert.deepEqual([...array.data], [...pixels]);
  }
});

test("multi-byte IDX types are read big-endian", () => {
  const shorts = Buffer.alloc(6);
  [-2, 300, 32767].forEach((value, i) => shorts.writeInt16BE(value, 2 * i));
  const int16 = readIdx(write("shorts.idx", idxBytes(0x0b, [3], shorts)));
  assert.equal(int16.type, "int16");
  assert.deepEqual([...int16.data], [-2, 300, 32767]);

  const ints = Buffer.alloc(8);
  [-70000, 123456789].forEach((value, i) => ints.writeInt32BE(value, 4 * i));
  assert.deepEqual([...parseIdx(idxBytes(0x0c, [2, 1], ints), "ints").data], [-70000, 123456789]);

  const floats = Buffer.alloc(8);
  [1.5, -0.25].forEach((value, i) => floats.writeFloatBE(value, 4 * i));
  const float32 = readIdx(write("floats.idx.gz", gzipSync(idxBytes(0x0d, [2], floats))));
  assert.equal(float32.type, "float32");
  assert.ok(float32.data instanceof Float32Array);
  assert.deepEqual([...float32.data], [1.5, -0.25]);

  const doubles = Buffer.alloc(8);
  doubles.writeDoubleBE(Math.PI);
  assert.deepEqual([...parseIdx(idxBytes(0x0e, [1], doubles), "doubles").data], [Math.PI]);

  const signed = parseIdx(idxBytes(0x09, [2], Buffer.from([0xff, 0x7f])), "bytes");
  assert.deepEqual([...signed.data], [-1, 127]);
});

test("bad IDX files are InputErrors naming the file", () => {
  const short = write("short.idx", Buffer.from([0, 0, 8]));
  assert.throws(() => readIdx(short), {
    name: "InputError",
    message: /short\.idx is not an IDX file: 3 bytes/,
  });
  const magic = write("magic.idx", idxBytes(0x07, [1], Buffer.from([1])));
  assert.throws(() => readIdx(magic), {
    name: "InputError",
    message: /magic\.idx is not an IDX file: magic 00 00 07 01/,
  });
  const text = write("text.idx", Buffer.from("hello, world"));
  assert.throws(() => readIdx(text), { name: "InputError", message: /text\.idx is not an IDX file/ });
  const header = write("header.idx", idxBytes(0x08, [2, 3], Buffer.alloc(0)).subarray(0, 10));
  assert.throws(() => readIdx(header), { name: "InputError", message: /header\.idx is truncated/ });
  const truncated = write("truncated.idx.gz", gzipSync(idxBytes(0x08, [2, 3], Buffer.alloc(5))));
  assert.throws(() => readIdx(truncated), {
    name: "InputError",
    message: /truncated\.idx\.gz holds 5 bytes of data, but its header \[2, 3\] of uint8 needs 6/,
  });
  const long = write("long.idx", idxBytes(0x0c, [1], Buffer.alloc(5)));
  assert.throws(() => readIdx(long), {
    name: "InputError",
    message: /long\.idx holds 5 bytes .* int32 needs 4/,
  });
  const gzip = write("broken.gz", Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3]));
  assert.throws(() => readIdx(gzip), { name: "InputError", message: /broken\.gz is not a valid gzip file/ });
  assert.throws(() => readIdx(join(dir, "missing.idx")), {
    name: "InputError",
    message: /IDX file not found/,
  });
});

test("Debian's Fashion-MNIST: 60000 + 10000 images of 28x28 with balanced labels 0..9", () => {
  for (const [split, count] of [
    ["train", 60000],
    ["test", 10000],
  ] as const) {
    const set = loadFashionMnist(split, fashionMnistDefaultRoot);
    assert.equal(set.count, count);
    assert.equal(set.images.length, count * 28 * 28);
    assert.equal(set.labels.length, count);
    assert.deepEqual(set.classNames, fashionMnistClassNames);
    const perClass = new Array<number>(10).fill(0);
    for (const label of set.labels) perClass[label]++;
    assert.deepEqual(perClass, new Array<number>(10).fill(count / 10), split);
    // Real pictures: dark backgrounds, bright garments.
    const mean = set.images.reduce((sum, value) => sum + value, 0) / set.images.length;
    assert.ok(mean > 40 && mean < 120, `mean pixel ${mean}`);
  }
  assert.equal(
    readIdx(join(fashionMnistDefaultRoot, "t10k-images-idx3-ubyte.gz")).shape.join("x"),
    "10000x28x28",
  );
});

test("the Fashion-MNIST root comes from ONEVIDEO_FASHION_MNIST; a missing set says how to install it", () => {
  const empty = join(dir, "no-dataset");
  mkdirSync(empty, { recursive: true });
  const saved = process.env.ONEVIDEO_FASHION_MNIST;
  process.env.ONEVIDEO_FASHION_MNIST = empty;
  try {
    assert.throws(() => loadFashionMnist("test"), {
      name: "InputError",
      message:
        /no t10k-images-idx3-ubyte\[\.gz\] in .*no-dataset; install the Debian package dataset-fashion-mnist \(sudo apt-get install dataset-fashion-mnist\)/,
    });
  } finally {
    if (saved === undefined) delete process.env.ONEVIDEO_FASHION_MNIST;
    else process.env.ONEVIDEO_FASHION_MNIST = saved;
  }
  // Uncompressed files in another folder, as a hand download gives them.
  const own = join(dir, "own-dataset");
  mkdirSync(own, { recursive: true });
  writeFileSync(join(own, "t10k-images-idx3-ubyte"), idxBytes(0x08, [2, 28, 28], Buffer.alloc(2 * 784, 7)));
  writeFileSync(join(own, "t10k-labels-idx1-ubyte"), idxBytes(0x08, [2], Buffer.from([3, 9])));
  const set = loadFashionMnist("test", own);
  assert.equal(set.count, 2);
  assert.deepEqual([...set.labels], [3, 9]);
  writeFileSync(join(own, "t10k-labels-idx1-ubyte"), idxBytes(0x08, [2], Buffer.from([3, 10])));
  assert.throws(() => loadFashionMnist("test", own), {
    name: "InputError",
    message: /label 10 at 1 is not a class/,
  });
  writeFileSync(join(own, "t10k-labels-idx1-ubyte"), idxBytes(0x08, [3], Buffer.from([3, 1, 2])));
  assert.throws(() => loadFashionMnist("test", own), {
    name: "InputError",
    message: /3 labels for the 2 images/,
  });
});

test("Fashion-MNIST batches: grey to 3 channels in [0, 1], resized as torch's bilinear interpolate", () => {
  const set = loadFashionMnist("test");
  const batch = fashionMnistBatch(set, 5, 3, 64);
  assert.deepEqual(batch.shape, [3, 3, 64, 64]);
  assert.equal(batch.dtype, "float32");
  const [low, high] = [batch.min().item(), batch.max().item()];
  assert.ok(low >= 0 && high <= 1 && high > 0.5, `range ${low} .. ${high}`);
  const pixels = tensor(set.images.subarray(5 * 784, 8 * 784), { shape: [3, 1, 28, 28] });
  const reference = runTorch(
    `x = inputs["pixels"].float() / 255
outputs["batch"] = F.interpolate(x, size=64, mode="bilinear", align_corners=False).expand(-1, 3, -1, -1).contiguous()`,
    new Map([["pixels", pixels]]),
  );
  assert.ok(maxAbsDiff(batch, reference.get("batch")!) < 1e-6);
  const native = fashionMnistBatch(set, 0, 2, 28);
  assert.deepEqual(
    native
      .select(0, 0)
      .select(0, 0)
      .select(0, 3)
      .toArray()
      .slice(0, 28)
      .map((v) => Math.round(v * 255)),
    [...set.images.subarray(3 * 28, 4 * 28)],
  );
  assert.throws(() => fashionMnistBatch(set, 9999, 2, 32), {
    name: "InputError",
    message: /outside the set's 0 \.\. 9999/,
  });
});
