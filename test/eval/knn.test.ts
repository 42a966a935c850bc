// DINO's weighted k-NN classifier: votes worked out by hand, the same accuracies as a direct
// python3-torch implementation of DINO's knn_classifier, and clear errors for bad inputs.
import assert from "node:assert/strict";
import { test } from "node:test";
import { knnClassify, knnSweep } from "../../src/eval/knn.ts";
import { manualSeed, randint, randn, type Tensor, tensor } from "../../src/torch/index.ts";
import { runTorch } from "../helpers/python.ts";

const deg30 = Math.PI / 6;
// Rows at different scales: the classifier normalises them itself.
const train = tensor([
  [2, 0], // label 0, cosine 1 to the first query
  [3 * Math.cos(deg30), 3 * Math.sin(deg30)], // label 1, cosine 0.866
  [0.5 * Math.cos(deg30), -0.5 * Math.sin(deg30)], // label 1, cosine 0.866
  [-1, 0], // label 2
  [0, 1], // label 2
]);
const trainLabels = [0, 1, 1, 2, 2];
const test1 = tensor([
  [5, 0],
  [-1, 0.1],
]);
const testLabels = [0, 2];

test("weighted votes by hand: one close neighbour can outvote two farther ones", () => {
  // Query 1's 3 nearest are rows 0, 1, 2: class 0 gets exp(1/T), class 1 gets 2 exp(0.866/T).
  // At T = 0.07 that is 1.6e6 against 4.7e5, so class 0 wins although class 1 has the majority;
  // at T = 1 it is 2.72 against 4.76 and the majority wins.
  // Query 2 (label 2) is nearest rows 3 (0.995), 4 (0.0995) and 1 (-0.812): class 2 either way.
  const input = { trainFeatures: train, trainLabels, testFeatures: test1, testLabels, k: 3 };
  assert.deepEqual(knnClassify(input), { top1: 100, top5: 100 });
  assert.deepEqual(knnClassify({ ...input, temperature: 1 }), { top1: 50, top5: 100 });
  // Below T = 1/88 DINO's exp(s / T) overflows float32; the ranking must not change.
  assert.deepEqual(knnClassify({ ...input, temperature: 0.005 }), { top1: 100, top5: 100 });
  // k = 1: each query's single nearest neighbour decides, and top-5 shrinks to top-1.
  assert.deepEqual(knnClassify({ ...input, k: 1, temperature: 1 }), { top1: 100, top5: 100 });
  // k = 5 at T = 1, query 1: class 1 has 4.76, class 0 e^1 = 2.72, class 2 e^-1 + e^0 = 1.37, so the
  // label is second; query 2: class 2 has e^0.995 + e^0.0995 = 3.81 against at most 0.85.
  const all = knnClassify({ ...input, k: 5, temperature: 1 });
  assert.equal(all.top1, 50);
  assert.equal(all.top5, 100);
});

test("ties go to the lower class, and a label no neighbour has is never counted", () => {
  const trainFeatures = tensor([
    [1, 1],
    [1, -1],
  ]);
  const query = tensor([[1, 0]]);
  // Both neighbours are equally similar, so classes 0 and 1 get exactly equal votes.
  const tied = { trainFeatures, trainLabels: [1, 0], testFeatures: query, k: 2 };
  assert.deepEqual(knnClassify({ ...tied, testLabels: [0] }), { top1: 100, top5: 100 });
  assert.deepEqual(knnClassify({ ...tied, testLabels: [1] }), { top1: 0, top5: 100 });
  // Label 4 of 5 classes: its zero vote would tie with classes 2 and 3 for a top-5 place.
  assert.deepEqual(knnClassify({ ...tied, testLabels: [4], classes: 5 }), { top1: 0, top5: 0 });
});

test("labels as tensors, typed arrays or arrays; chunking does not change the result", () => {
  manualSeed(3);
  const centres = randn([4, 8]);
  const trainTargets = randint(0, 4, [60], { dtype: "int64" });
  const testTargets = randint(0, 4, [25], { dtype: "int64" });
  const trainFeatures = centres.indexSelect(0, trainTargets).add(randn([60, 8]));
  const testFeatures = centres.indexSelect(0, testTargets).add(randn([25, 8]));
  const base = { trainFeatures, testFeatures, ks: [1, 5, 20, 60] };
  const whole = knnSweep({ ...base, trainLabels: trainTargets, testLabels: testTargets });
  assert.deepEqual(
    whole.map(({ k }) => k),
    [1, 5, 20, 60],
  );
  assert.ok(whole[1].top1 > 50, `k = 5 on separable classes: ${whole[1].top1}%`);
  const chunked = knnSweep({
    ...base,
    trainLabels: Uint8Array.from(trainTargets.toArray()),
    testLabels: testTargets.toArray(),
    chunkSize: 7,
  });
  assert.deepEqual(chunked, whole);
  const one = knnClassify({ ...base, trainLabels: trainTargets, testLabels: testTargets, k: 20 });
  assert.deepEqual(one, { top1: whole[2].top1, top5: whole[2].top5 });
});

/** DINO's knn_classifier (eval_knn.py) with one addition: a label no neighbour has is not counted. */
const dinoReference = `
train_features = F.normalize(inputs["train_features"], dim=1).t()
test_features = F.normalize(inputs["test_features"], dim=1)
train_labels, test_labels = inputs["train_labels"], inputs["test_labels"]
num_classes, T = 10, float(inputs["temperature"].item())
for k in [1, 3, 10, 20, 100]:
    top1, top5, total = 0.0, 0.0, 0
    num_test_images, num_chunks = test_labels.shape[0], 5
    imgs_per_chunk = num_test_images // num_chunks
    retrieval_one_hot = torch.zeros(k, num_classes)
    for idx in range(0, num_test_images, imgs_per_chunk):
        features = test_features[idx : min((idx + imgs_per_chunk), num_test_images), :]
        targets = test_labels[idx : min((idx + imgs_per_chunk), num_test_images)]
        batch_size = targets.shape[0]
        similarity = torch.mm(features, train_features)
        distances, indices = similarity.topk(k, largest=True, sorted=True)
        candidates = train_labels.view(1, -1).expand(batch_size, -1)
        retrieved_neighbors = torch.gather(candidates, 1, indices)
        retrieval_one_hot.resize_(batch_size * k, num_classes).zero_()
        retrieval_one_hot.scatter_(1, retrieved_neighbors.view(-1, 1), 1)
        distances_transform = distances.clone().div_(T).exp_()
        probs = torch.sum(
            torch.mul(retrieval_one_hot.view(batch_size, -1, num_classes), distances_transform.view(batch_size, -1, 1)),
            1,
        )
        _, predictions = probs.sort(1, True)
        correct = predictions.eq(targets.data.view(-1, 1))
        retrieved = retrieved_neighbors.eq(targets.view(-1, 1)).any(1, keepdim=True)
        correct = correct & retrieved
        top1 = top1 + correct.narrow(1, 0, 1).sum().item()
        top5 = top5 + correct.narrow(1, 0, min(5, k)).sum().item()
        total += targets.size(0)
    outputs[f"k{k}"] = torch.tensor([top1 * 100.0 / total, top5 * 100.0 / total], dtype=torch.float64)
`;

test("the same accuracies as DINO's knn_classifier in python3-torch, to 1e-6", () => {
  manualSeed(11);
  const centres = randn([10, 16]);
  const trainLabels = randint(0, 10, [400], { dtype: "int64" });
  const testLabels = randint(0, 10, [150], { dtype: "int64" });
  // Noisy class centres: accuracies well away from both chance and 100%.
  const features = (labels: Tensor, count: number): Tensor =>
    centres.indexSelect(0, labels).add(randn([count, 16]).mul(2.5));
  const trainFeatures = features(trainLabels, 400);
  const testFeatures = features(testLabels, 150);
  for (const temperature of [0.07, 0.5]) {
    const ours = knnSweep({
      trainFeatures,
      trainLabels,
      testFeatures,
      testLabels,
      temperature,
      ks: [1, 3, 10, 20, 100],
      classes: 10,
    });
    const reference = runTorch(
      dinoReference,
      new Map([
        ["train_features", trainFeatures],
        ["test_features", testFeatures],
        ["train_labels", trainLabels],
        ["test_labels", testLabels],
        ["temperature", tensor([temperature], { dtype: "float64" })],
      ]),
    );
    for (const { k, top1, top5 } of ours) {
      const [referenceTop1, referenceTop5] = reference.get(`k${k}`)!.toArray();
      assert.ok(
        Math.abs(top1 - referenceTop1) < 1e-6,
        `T ${temperature} k ${k}: top-1 ${top1} vs ${referenceTop1}`,
      );
      assert.ok(
        Math.abs(top5 - referenceTop5) < 1e-6,
        `T ${temperature} k ${k}: top-5 ${top5} vs ${referenceTop5}`,
      );
    }
    const k10 = ours.find(({ k }) => k === 10)!;
    assert.ok(k10.top1 > 20 && k10.top1 < 95, `k = 10 top-1 ${k10.top1}%`);
  }
});

test("bad inputs are one-line InputErrors", () => {
  const input = { trainFeatures: train, trainLabels, testFeatures: test1, testLabels, k: 3 };
  const fails = (patch: object, message: RegExp): void =>
    assert.throws(() => knnClassify({ ...input, ...patch }), { name: "InputError", message });
  fails({ trainLabels: [0, 1, 1, 2] }, /^k-NN: 5 train features but 4 train labels$/);
  fails({ testLabels: [0, 1, 2] }, /^k-NN: 2 test features but 3 test labels$/);
  fails(
    { testFeatures: tensor([[1, 0, 0]]) },
    /^k-NN: train features have 2 dimensions but test features have 3$/,
  );
  fails({ testFeatures: tensor([1, 0]) }, /test features must be \[count, dim\], got \[2\]/);
  fails({ k: 6 }, /^k-NN: k = 6 is more than the 5 train samples$/);
  fails({ k: 0 }, /k must be a positive integer, got 0/);
  fails({ temperature: 0 }, /temperature must be positive/);
  fails({ trainLabels: [0, 1, 1.5, 2, 2] }, /train label 1.5 at 2 is not a class index/);
  fails({ testLabels: tensor([[0, 2]]) }, /test labels must be 1-d/);
  fails({ classes: 2 }, /train label 2 at 3 is outside the 2 classes/);
  assert.throws(
    () => knnSweep({ ...input, ks: [10, 20, 100, 200] }),
    /k = 10 is more than the 5 train samples/,
  );
});
