// DINO's linear probe (eval_linear.py): one linear layer on frozen features, trained with
// cross-entropy by SGD with momentum, its learning rate decayed to 0 by a per-epoch cosine,
// and scored by top-1 (and top-5) accuracy on the test set.
import { Random, shuffled } from "../util/random.ts";
import { Linear } from "../nn/index.ts";
import { cosineSchedule, SGD } from "../optim/index.ts";
import { type Device, F, noGrad, scope, type Tensor, tensor } from "../torch/index.ts";
import { InputError } from "../errors.ts";

export interface LinearProbeOptions {
  /**
   * [count, dim] train features on any device: one tensor used every epoch (cached), or a
   * function giving each epoch's own (augmented) features, which is disposed after the epoch.
   */
  trainFeatures: Tensor | ((epoch: number) => Tensor);
  trainLabels: ArrayLike<number>;
  classes: number;
  epochs: number;
  batchSize: number;
  /** DINO's rule by default: 0.001 * batchSize / 256. */
  lr?: number;
  momentum?: number;
  weightDecay?: number;
  /** Seeds the order of the samples; the weights' initialisation follows torch's seed. */
  seed?: number;
  device?: Device;
  /** Called after each epoch with its mean training loss and the classifier as it is then. */
  onEpoch?: (epoch: number, loss: number, classifier: Linear) => void;
}

export interface LinearProbe {
  classifier: Linear;
  /** The mean cross-entropy of each epoch. */
  losses: number[];
  lr: number;
}

/** DINO's learning-rate scaling with the batch size. */
export function defaultProbeLr(batchSize: number): number {
  return (0.001 * batchSize) / 256;
}

/** The learning rate of each epoch: CosineAnnealingLR(T_max = epochs, eta_min = 0), stepped per epoch. */
export function probeLrSchedule(lr: number, epochs: number): Float64Array {
  return cosineSchedule({ base: lr, final: 0, epochs, itersPerEpoch: 1 });
}

/** A linear layer initialised as DINO's LinearClassifier: weights normal(0, 0.01), bias 0. */
export function probeClassifier(dim: number, classes: number): Linear {
  const classifier = new Linear(dim, classes);
  noGrad(() => {
    classifier.weight.normal_(0, 0.01);
    classifier.bias?.zero_();
  });
  return classifier;
}

export function trainLinearProbe(options: LinearProbeOptions): LinearProbe {
  const { classes, epochs, batchSize, momentum = 0.9, weightDecay = 0, device = "cpu" } = options;
  if (!Number.isInteger(epochs) || epochs < 1) {
    throw new InputError(`linear probe: epochs must be a positive integer, got ${epochs}`);
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new InputError(`linear probe: the batch size must be a positive integer, got ${batchSize}`);
  }
  const labels = checkLabels(options.trainLabels, classes, "train");
  const lr = options.lr ?? defaultProbeLr(batchSize);
  if (!(lr > 0)) throw new InputError(`linear probe: the learning rate must be positive, got ${lr}`);
  const schedule = probeLrSchedule(lr, epochs);
  const random = new Random(options.seed ?? 0);
  const onDevice = (features: Tensor) =>
    scope(() => checkFeatures(features, labels.length, "train").to(device).float());
  const provider = typeof options.trainFeatures === "function" ? options.trainFeatures : undefined;
  const featuresOf = (epoch: number, make: (epoch: number) => Tensor) => {
    const fresh = make(epoch);
    try {
      return onDevice(fresh);
    } finally {
      fresh.dispose();
    }
  };
  // Cached features and the labels go to the device once, not every epoch.
  const cached = provider ? undefined : onDevice(options.trainFeatures as Tensor);
  const targets = scope(() => tensor(labels).to(device).long());
  let classifier: Linear | undefined;
  let optimizer: SGD | undefined;
  const losses: number[] = [];
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      const features = cached ?? featuresOf(epoch, provider!);
      try {
        if (!classifier || !optimizer) {
          classifier = probeClassifier(features.shape[1], classes).to(device);
          optimizer = new SGD(classifier.parameters(), { lr, momentum, weightDecay });
        } else if (features.shape[1] !== classifier.inFeatures) {
          throw new InputError(
            `linear probe: epoch ${epoch} has ${features.shape[1]}-d features, the first had ${classifier.inFeatures}`,
          );
        }
        optimizer.paramGroups[0].options.lr = schedule[epoch];
        losses.push(runEpoch(classifier, optimizer, features, targets, batchSize, random, epoch));
      } finally {
        if (features !== cached) features.dispose();
      }
      options.onEpoch?.(epoch, losses[epoch], classifier!);
    }
  } finally {
    cached?.dispose();
    targets.dispose();
  }
  return { classifier: classifier!, losses, lr };
}

/** One pass over the shuffled samples; returns the mean loss. */
function runEpoch(
  classifier: Linear,
  optimizer: SGD,
  features: Tensor,
  targets: Tensor,
  batchSize: number,
  random: Random,
  epoch: number,
): number {
  const count = features.shape[0];
  const order = shuffled(
    Array.from({ length: count }, (_, i) => i),
    random,
  );
  let total = 0;
  for (let start = 0; start < count; start += batchSize) {
    const batch = order.slice(start, start + batchSize);
    total += scope(() => {
      const index = tensor(batch, { dtype: "int64" }).to(features.device);
      const logits = classifier.forward(features.indexSelect(0, index));
      const loss = F.crossEntropy(logits, targets.indexSelect(0, index));
      const value = loss.item();
      if (!Number.isFinite(value)) {
        throw new InputError(`linear probe: the loss became ${value} in epoch ${epoch}; lower --lr`);
      }
      optimizer.zeroGrad();
      loss.backward();
      optimizer.step();
      return value * batch.length;
    });
  }
  return total / count;
}

/** Accuracies in percent; top-5 only when there are at least 5 classes (else null). */
export function probeAccuracy(
  classifier: Linear,
  features: Tensor,
  labels: ArrayLike<number>,
  batchSize = 1024,
): { top1: number; top5: number | null } {
  const classes = classifier.outFeatures;
  const checked = checkLabels(labels, classes, "test");
  checkFeatures(features, checked.length, "test");
  if (features.shape[1] !== classifier.inFeatures) {
    throw new InputError(
      `linear probe: test features have ${features.shape[1]} dimensions but the classifier takes ${classifier.inFeatures}`,
    );
  }
  if (checked.length === 0) throw new InputError("linear probe: there are no test features to classify");
  const device = classifier.weight.device;
  const ranks = Math.min(5, classes);
  let top1 = 0;
  let top5 = 0;
  noGrad(() => {
    for (let start = 0; start < checked.length; start += batchSize) {
      const n = Math.min(batchSize, checked.length - start);
      scope(() => {
        const logits = classifier.forward(features.narrow(0, start, n).to(device).float());
        const predicted = logits.topk(ranks, 1, true, true).indices;
        const target = tensor(checked.subarray(start, start + n))
          .to(device)
          .long()
          .unsqueeze(1);
        const hits = predicted.eq(target);
        top1 += hits.narrow(1, 0, 1).sum().item();
        top5 += hits.sum().item();
      });
    }
  });
  const percent = (hits: number) => (100 * hits) / checked.length;
  return { top1: percent(top1), top5: classes >= 5 ? percent(top5) : null };
}

function checkFeatures(features: Tensor, count: number, which: string): Tensor {
  if (features.ndim !== 2) {
    throw new InputError(
      `linear probe: ${which} features must be [count, dim], got [${features.shape.join(", ")}]`,
    );
  }
  if (features.shape[0] !== count) {
    throw new InputError(`linear probe: ${features.shape[0]} ${which} features but ${count} ${which} labels`);
  }
  return features;
}

function checkLabels(labels: ArrayLike<number>, classes: number, which: string): Int32Array {
  if (!Number.isInteger(classes) || classes < 1) {
    throw new InputError(`linear probe: the number of classes must be a positive integer, got ${classes}`);
  }
  const result = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (!Number.isInteger(label) || label < 0 || label >= classes) {
      throw new InputError(
        `linear probe: ${which} label ${label} at ${i} is not one of the ${classes} classes (0..${classes - 1})`,
      );
    }
    result[i] = label;
  }
  return result;
}
