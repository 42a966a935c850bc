// The dense probe: a linear classifier on frozen patch features (a 1x1 convolution), its
// logits upsampled bilinearly to the label maps' size, trained with cross-entropy that
// skips ignored pixels, and scored by mean IoU on held-out images. Features are first
// standardised per channel with the train set's mean and deviation (a batch norm without
// affine, as linear probes use): unit-norm embeddings of 128 channels (VADeR's) otherwise
// start with logits so small that the probe settles on the majority class within its budget.
import { Random, shuffled } from "../util/random.ts";
import { Linear } from "../nn/index.ts";
import { AdamW } from "../optim/index.ts";
import { F, noGrad, scope, type Tensor, tensor } from "../torch/index.ts";
import { InputError } from "../errors.ts";
import { ConfusionMatrix, ignoreLabel } from "./segmentation_metrics.ts";

/** Frozen patch features and per-pixel class labels of a set of images. */
export interface DenseSet {
  /** [count, rows, cols, dim] patch features. */
  features: Tensor;
  /** count label maps of height x width bytes (class ids, 255 ignored). */
  labels: Uint8Array[];
  height: number;
  width: number;
}

export interface DenseProbeOptions {
  classes: number;
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
}

export interface DenseProbeResult {
  meanIou: number;
  pixelAccuracy: number;
  /** Per class; null for a class absent from the test truth and predictions. */
  iou: (number | null)[];
  losses: number[];
}

/** Per-channel mean and deviation of [count, rows, cols, dim] features. */
function channelStatistics(features: Tensor): { mean: Tensor; deviation: Tensor } {
  return scope(() => {
    const flat = features.reshape(-1, features.size(3));
    return { mean: flat.mean(0), deviation: flat.std(0, false).add(1e-6) };
  });
}

function logits(classifier: Linear, features: Tensor, height: number, width: number): Tensor {
  using scores = classifier.forward(features); // [n, rows, cols, classes]
  using channelsFirst = scores.permute(0, 3, 1, 2);
  return F.interpolate(channelsFirst, { size: [height, width], mode: "bilinear", alignCorners: false });
}

function labelBatch(set: DenseSet, indices: number[]): Tensor {
  const bytes = new Uint8Array(indices.length * set.height * set.width);
  indices.forEach((index, i) => bytes.set(set.labels[index], i * set.height * set.width));
  using raw = tensor(bytes, { shape: [indices.length, set.height, set.width] });
  return raw.long();
}

function checkSet(set: DenseSet, name: string): void {
  if (set.features.ndim !== 4 || set.features.size(0) !== set.labels.length) {
    throw new InputError(
      `${name}: ${set.labels.length} label maps for features of shape [${set.features.shape}]; they must pair up`,
    );
  }
  const bad = set.labels.findIndex((map) => map.length !== set.height * set.width);
  if (bad >= 0) throw new InputError(`${name}: label map ${bad} is not ${set.width}x${set.height}`);
}

export function trainDenseProbe(
  train: DenseSet,
  test: DenseSet,
  options: DenseProbeOptions,
): DenseProbeResult {
  checkSet(train, "train");
  checkSet(test, "test");
  const dim = train.features.size(3);
  if (test.features.size(3) !== dim) {
    throw new InputError(`test features have ${test.features.size(3)} channels, train features ${dim}`);
  }
  const { mean, deviation } = channelStatistics(train.features);
  using trainFeatures = train.features.sub(mean).div(deviation);
  using testFeatures = test.features.sub(mean).div(deviation);
  mean.dispose();
  deviation.dispose();
  const classifier = new Linear(dim, options.classes);
  const optimizer = new AdamW([{ params: classifier.parameters() }], { lr: options.lr, weightDecay: 0 });
  const random = new Random(options.seed);
  const losses: number[] = [];
  const count = train.labels.length;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const order = shuffled(
      Array.from({ length: count }, (_, i) => i),
      random,
    );
    let total = 0;
    for (let start = 0; start < count; start += options.batchSize) {
      const indices = order.slice(start, start + options.batchSize);
      total += scope(() => {
        const index = tensor(Int32Array.from(indices)).long();
        const scores = logits(classifier, trainFeatures.indexSelect(0, index), train.height, train.width);
        const loss = F.crossEntropy(scores, labelBatch(train, indices), { ignoreIndex: ignoreLabel });
        optimizer.zeroGrad();
        loss.backward();
        optimizer.step();
        return loss.item() * indices.length;
      });
    }
    losses.push(total / count);
  }
  const confusion = new ConfusionMatrix(options.classes);
  noGrad(() => {
    for (let start = 0; start < test.labels.length; start += options.batchSize) {
      const n = Math.min(options.batchSize, test.labels.length - start);
      scope(() => {
        const scores = logits(classifier, testFeatures.narrow(0, start, n), test.height, test.width);
        const predicted = scores.argmax(1).to("int32").toArray();
        const pixels = test.height * test.width;
        for (let i = 0; i < n; i++) {
          confusion.add(test.labels[start + i], predicted.slice(i * pixels, (i + 1) * pixels));
        }
      });
    }
  });
  return {
    meanIou: confusion.meanIou(),
    pixelAccuracy: confusion.pixelAccuracy(),
    iou: confusion.intersectionOverUnion().map((iou) => (Number.isNaN(iou) ? null : iou)),
    losses,
  };
}
