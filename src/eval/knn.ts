// DINO's weighted k-NN classifier, the standard probe of frozen self-supervised features:
// each test sample's k most cosine-similar train samples vote for their labels with
// weight exp(similarity / T), and the classes are ranked by their summed votes.
import { arange, F, noGrad, scope, Tensor, tensor, zeros } from "../torch/index.ts";
import { InputError } from "../errors.ts";

/** Class indices 0, 1, ...: a 1-d tensor or any array of integers. */
export type Labels = Tensor | ArrayLike<number>;

export interface KnnInput {
  /** [count, dim], any scale: rows are L2-normalised here. */
  trainFeatures: Tensor;
  trainLabels: Labels;
  /** [count, dim], on any device: moved to the train features' device. */
  testFeatures: Tensor;
  testLabels: Labels;
  /** The vote temperature T; DINO's 0.07 by default. */
  temperature?: number;
  /** The number of classes; one more than the largest label by default. */
  classes?: number;
  /** Test samples compared at once; by default a similarity block holds about 16M entries. */
  chunkSize?: number;
}

/** Accuracies in percent, as DINO reports them. */
export interface KnnAccuracy {
  k: number;
  top1: number;
  top5: number;
}

export const defaultKs = [10, 20, 100, 200];

/** The weighted k-NN accuracy for one k. */
export function knnClassify(input: KnnInput & { k: number }): { top1: number; top5: number } {
  const [{ top1, top5 }] = knnSweep({ ...input, ks: [input.k] });
  return { top1, top5 };
}

/**
 * The weighted k-NN accuracy for each k (DINO's 10, 20, 100 and 200 by default), sharing one
 * similarity search: the nearest max(ks) neighbours, sorted, hold the nearest k for every k.
 */
export function knnSweep(input: KnnInput & { ks?: number[] }): KnnAccuracy[] {
  const { trainFeatures, testFeatures, temperature = 0.07 } = input;
  const ks = input.ks ?? defaultKs;
  const [trainCount, dim] = matrixShape(trainFeatures, "train");
  const [testCount, testDim] = matrixShape(testFeatures, "test");
  if (dim !== testDim) {
    throw new InputError(`k-NN: train features have ${dim} dimensions but test features have ${testDim}`);
  }
  const trainLabels = labelArray(input.trainLabels, "train");
  const testLabels = labelArray(input.testLabels, "test");
  if (trainLabels.length !== trainCount) {
    throw new InputError(`k-NN: ${trainCount} train features but ${trainLabels.length} train labels`);
  }
  if (testLabels.length !== testCount) {
    throw new InputError(`k-NN: ${testCount} test features but ${testLabels.length} test labels`);
  }
  if (testCount === 0) throw new InputError("k-NN: there are no test features to classify");
  if (ks.length === 0) throw new InputError("k-NN: no values of k given");
  for (const k of ks) {
    if (!Number.isInteger(k) || k < 1) throw new InputError(`k-NN: k must be a positive integer, got ${k}`);
    if (k > trainCount) {
      throw new InputError(`k-NN: k = ${k} is more than the ${trainCount} train samples`);
    }
  }
  if (!(temperature > 0)) throw new InputError(`k-NN: the temperature must be positive, got ${temperature}`);
  const classes = input.classes ?? Math.max(maxLabel(trainLabels), maxLabel(testLabels)) + 1;
  checkRange(trainLabels, classes, "train");
  checkRange(testLabels, classes, "test");
  const chunkSize = input.chunkSize ?? Math.max(1, Math.floor(2 ** 24 / trainCount));
  if (!Number.isInteger(chunkSize) || chunkSize < 1) {
    throw new InputError(`k-NN: the chunk size must be a positive integer, got ${chunkSize}`);
  }

  const top1 = ks.map(() => 0);
  const top5 = ks.map(() => 0);
  const maxK = Math.max(...ks);
  noGrad(() =>
    scope(() => {
      const device = trainFeatures.device;
      // [dim, trainCount], so that a chunk's similarities are one matrix product.
      const train = F.normalize(trainFeatures.float(), 2, 1).t().contiguous();
      const test = F.normalize(testFeatures.to(device).float(), 2, 1);
      const trainTargets = tensor(trainLabels).to(device).long();
      const testTargets = tensor(testLabels).to(device).long();
      const classIndex = arange(0, classes, 1, { dtype: "int64", device }).unsqueeze(0);
      for (let start = 0; start < testCount; start += chunkSize) {
        const count = Math.min(chunkSize, testCount - start);
        scope(() => {
          const similarity = test.narrow(0, start, count).mm(train);
          const nearest = similarity.topk(maxK, 1, true, true);
          const neighbourLabels = trainTargets.indexSelect(0, nearest.indices.flatten()).view(count, maxK);
          // Dividing all of a sample's votes by the same exp(best / T) keeps its class ranking
          // and keeps exp from overflowing at small temperatures.
          const best = nearest.values.narrow(1, 0, 1);
          const weights = nearest.values.sub(best).div(temperature).exp();
          const targets = testTargets.narrow(0, start, count).unsqueeze(1);
          ks.forEach((k, i) => {
            const labels = neighbourLabels.narrow(1, 0, k).contiguous();
            const votes = zeros([count, classes], { device }).scatterAdd(
              1,
              labels,
              weights.narrow(1, 0, k).contiguous(),
            );
            const own = votes.gather(1, targets);
            // The label's rank: classes with more votes, and equal ones with a lower index
            // (a tie goes to the lower class, so the result is deterministic).
            const ahead = votes
              .gt(own)
              .logicalOr(votes.eq(own).logicalAnd(classIndex.lt(targets)))
              .sum(1);
            // A label no neighbour has gets no rank, rather than one drawn from the zero-vote ties.
            const retrieved = labels.eq(targets).sum(1).gt(0);
            top1[i] += ahead.eq(0).logicalAnd(retrieved).sum().item();
            top5[i] += ahead.lt(Math.min(5, k)).logicalAnd(retrieved).sum().item();
          });
        });
      }
    }),
  );
  return ks.map((k, i) => ({ k, top1: (100 * top1[i]) / testCount, top5: (100 * top5[i]) / testCount }));
}

function matrixShape(features: Tensor, which: string): [number, number] {
  if (features.ndim !== 2) {
    throw new InputError(`k-NN: ${which} features must be [count, dim], got [${features.shape.join(", ")}]`);
  }
  return [features.shape[0], features.shape[1]];
}

function labelArray(labels: Labels, which: string): Int32Array {
  if (labels instanceof Tensor && labels.ndim !== 1) {
    throw new InputError(`k-NN: ${which} labels must be 1-d, got [${labels.shape.join(", ")}]`);
  }
  const values = labels instanceof Tensor ? labels.toArray() : labels;
  const result = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const label = values[i];
    if (!Number.isInteger(label) || label < 0) {
      throw new InputError(`k-NN: ${which} label ${label} at ${i} is not a class index (0, 1, ...)`);
    }
    result[i] = label;
  }
  return result;
}

function maxLabel(labels: Int32Array): number {
  let max = -1;
  for (const label of labels) max = Math.max(max, label);
  return max;
}

function checkRange(labels: Int32Array, classes: number, which: string): void {
  if (!Number.isInteger(classes) || classes < 1) {
    throw new InputError(`k-NN: the number of classes must be a positive integer, got ${classes}`);
  }
  const bad = labels.findIndex((label) => label >= classes);
  if (bad >= 0) {
    throw new InputError(`k-NN: ${which} label ${labels[bad]} at ${bad} is outside the ${classes} classes`);
  }
}
