// VADeR (Pinheiro et al., NeurIPS 2020) as a method: a dense encoder learns per-pixel
// embeddings that stay the same when the viewing conditions change. Each image is seen
// in two views with known geometry; at P scene points visible in both, the online
// encoder's embedding in view A must pick out the momentum encoder's embedding of the
// same point in view B among a queue of pixel embeddings from other images (MoCo).
import { z } from "zod";
import { samplePairBatch, gatherPairFeatures } from "../augment/correspondence.ts";
import { distortColors, type MultiCropConfig } from "../augment/multicrop.ts";
import { augmentationOptions, multiCropFromOptions } from "../augment/options.ts";
import { renderViews, sampleViewGeometry, type ViewGeometryOptions } from "../augment/view_geometry.ts";
import { denseBackbones, denseEncoder, type DenseEncoder, denseOutputSize } from "../models/dense.ts";
import { vitArchitectures, type VitArchitecture } from "../models/vit.ts";
import { F, noGrad, type Tensor } from "../torch/index.ts";
import { sharedOptions } from "../train/config.ts";
import type { StepContext, StepResult, TrainableMethod } from "../train/method.ts";
import { pixelInfoNce } from "./pixel_contrast.ts";
import { PixelQueue } from "./pixel_queue.ts";

const positiveInt = z.number().int().positive();
const fraction = z.number().min(0).max(1);
// The local-crop options are DINO's; VADeR's views are two full-size crops.
const {
  localScaleMin: _min,
  localScaleMax: _max,
  localBlurProbability: _blur,
  ...viewAugmentation
} = augmentationOptions;

export const vaderOptions = {
  ...sharedOptions,
  arch: z
    .enum(denseBackbones as [string, ...string[]])
    .default("resnet50")
    .describe("backbone: resnet18 or resnet50 with an FPN decoder, or a ViT with an upsampling decoder"),
  patchSize: z
    .union([z.literal(8), z.literal(16)])
    .default(16)
    .describe("ViT patch size (ViT backbones only)"),
  embeddingDim: positiveInt.default(128).describe("channels of the per-pixel embeddings (D)"),
  decoderWidth: positiveInt.default(256).describe("channels inside the decoder"),
  pairsPerImage: positiveInt.default(32).describe("matched pixels per image (P)"),
  queueLength: positiveInt.default(65536).describe("negatives: pixel embeddings kept from earlier batches"),
  temperature: z.number().positive().default(0.07).describe("InfoNCE temperature"),
  // MoCo v2's optimisation: SGD, lr 0.03 per 256, weight decay 1e-4, constant momentum 0.999.
  optimizer: z.enum(["sgd", "adamw"]).default("sgd").describe("sgd (MoCo's) or adamw"),
  sgdMomentum: fraction.default(0.9).describe("SGD momentum"),
  lr: z.number().positive().default(0.03).describe("peak learning rate at batch 256 (scaled by batch/256)"),
  minLr: z.number().min(0).default(0).describe("final learning rate"),
  warmupEpochs: z.number().min(0).default(0).describe("linear learning-rate warm-up"),
  weightDecay: z.number().min(0).default(1e-4).describe("initial weight decay"),
  weightDecayEnd: z.number().min(0).default(1e-4).describe("final weight decay (cosine)"),
  clipGrad: z.number().min(0).default(0).describe("per-parameter gradient norm clip (0: off)"),
  freezeLastLayerEpochs: z.number().min(0).default(0).describe("unused by VADeR (no projection head)"),
  teacherMomentum: fraction.default(0.999).describe("momentum encoder's EMA momentum at the start"),
  teacherMomentumEnd: fraction.default(0.999).describe("and at the end (cosine; equal: constant, MoCo)"),
  ...viewAugmentation,
  globalScaleMin: z.number().gt(0).max(1).default(0.2).describe("smallest crop, as a fraction of the area"),
  blurProbability: fraction.default(0.5).describe("blur probability of view A"),
  secondBlurProbability: fraction.default(0.5).describe("blur probability of view B"),
  solarizeProbability: fraction.default(0).describe("solarisation probability of view B"),
  rotationDegrees: z.number().min(0).max(180).default(0).describe("random rotation of each view, +-degrees"),
  shearDegrees: z
    .number()
    .min(0)
    .max(60)
    .default(0)
    .describe("random horizontal shear of each view, +-degrees"),
  frameGap: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe("0: both views from one frame; d: from frames t and t+d of a clip (static-scene pairing)"),
};

export const vaderConfigSchema = z
  .object(vaderOptions)
  .strict()
  .superRefine((config, context) => {
    const problem = (path: string, message: string) =>
      context.addIssue({ code: "custom", path: [path], message });
    if (config.imageSize % 32 !== 0) {
      problem("imageSize", `${config.imageSize} is not a multiple of 32 (the backbone's coarsest stride)`);
    }
    if (config.arch in vitArchitectures && config.imageSize % config.patchSize !== 0) {
      problem("imageSize", `${config.imageSize} is not a multiple of the patch size ${config.patchSize}`);
    }
    if (config.blurSigmaMin > config.blurSigmaMax) problem("blurSigmaMin", "exceeds --blur-sigma-max");
    if (config.frameGap > 0 && config.clipLength <= config.frameGap) {
      problem("frameGap", `needs clips longer than the gap: raise --clip-length above ${config.frameGap}`);
    }
    if (config.frameGap > 0 && config.video === undefined) {
      problem("frameGap", "pairs frames of a video: give --video, or drop --frame-gap");
    }
    const sources = [config.video, config.images, config.dataset].filter((source) => source !== undefined);
    if (sources.length > 1) problem("video", "give one of --video, --images and --dataset");
  });

export type VaderConfig = z.infer<typeof vaderConfigSchema>;

/** Metadata key of a dense weights file: the VADeR config that builds its network. */
export const vaderConfigKey = "onevideo_vader_config";

export function createVaderEncoder(config: VaderConfig, dropPathRate: number): DenseEncoder {
  const isVit = config.arch in vitArchitectures;
  return denseEncoder({
    backbone: config.arch as VitArchitecture,
    embeddingDim: config.embeddingDim,
    decoderWidth: config.decoderWidth,
    ...(isVit ? { patchSize: config.patchSize, vit: { imageSize: config.imageSize, dropPathRate } } : {}),
  });
}

export class VaderMethod implements TrainableMethod {
  readonly student: DenseEncoder;
  readonly teacher: DenseEncoder;
  readonly queue: PixelQueue;
  readonly augmentation: MultiCropConfig;
  readonly geometry: ViewGeometryOptions;
  readonly denseMetadata: Record<string, string>;

  constructor(readonly config: VaderConfig) {
    this.student = createVaderEncoder(config, config.dropPathRate);
    this.teacher = createVaderEncoder(config, 0);
    this.teacher.loadStateDict(this.student.stateDict());
    // The momentum encoder normalises with running statistics (tracked from the student,
    // below), so its keys carry nothing about which images share the batch: a single
    // process cannot shuffle batch-norm batches as MoCo does across GPUs.
    this.teacher.freeze_();
    this.denseMetadata = { [vaderConfigKey]: JSON.stringify(config) };
    this.queue = new PixelQueue(config.queueLength, config.embeddingDim);
    // Two "global" views, A and B, and no local crops (their options are unused).
    const noLocals = { localScaleMin: 1, localScaleMax: 1, localBlurProbability: 0 };
    this.augmentation = multiCropFromOptions(
      { ...config, ...noLocals },
      config.imageSize,
      config.imageSize,
      0,
    );
    const rotation = config.rotationDegrees;
    const shear = config.shearDegrees;
    this.geometry = {
      scale: [config.globalScaleMin, 1],
      flipProbability: config.flipProbability,
      ...(rotation > 0 || shear > 0 ? { affine: { degrees: rotation, shear } } : {}),
    };
  }

  lastLayerParameters(): Tensor[] {
    return [];
  }

  extraState(): Map<string, Tensor> {
    return new Map([
      ["vader_queue.embeddings", this.queue.embeddings],
      ["vader_queue.pointer", this.queue.pointer],
    ]);
  }

  /** The sources of views A and B: each image twice, or frames t and t + gap of each clip. */
  #viewSources(images: Tensor): { sourceA: Tensor; sourceB: Tensor } {
    const gap = this.config.frameGap;
    if (gap === 0) return { sourceA: images, sourceB: images };
    const clips = images.size(0) / this.config.clipLength;
    using byClip = images.view(clips, this.config.clipLength, ...images.shape.slice(1));
    return { sourceA: byClip.select(1, 0), sourceB: byClip.select(1, gap) };
  }

  step(images: Tensor, context: StepContext): StepResult {
    const { random } = context;
    const { sourceA, sourceB } = this.#viewSources(images);
    const [count, , height, width] = sourceA.shape;
    const size = this.config.imageSize;
    const sample = () =>
      Array.from({ length: count }, () => sampleViewGeometry(width, height, this.geometry, random));
    const [geometriesA, geometriesB] = [sample(), sample()];
    const [globalA, globalB] = this.augmentation.globalViews;
    const renderedA = renderViews(sourceA, geometriesA, size);
    const renderedB = renderViews(sourceB, geometriesB, size);
    const viewA = distortColors(renderedA.views, globalA, this.augmentation, random);
    const viewB = distortColors(renderedB.views, globalB, this.augmentation, random);
    const pairs = samplePairBatch(geometriesA, geometriesB, denseOutputSize(size, size), random, {
      count: this.config.pairsPerImage,
      device: images.device,
    });

    const online = this.student.forward(viewA);
    const momentum = noGrad(() => {
      this.#trackStudentStatistics();
      return this.teacher.forward(viewB);
    });
    const { a, b } = gatherPairFeatures(online, momentum, pairs);
    // Only real pairs count; B's bilinear samples are re-normalised to unit length.
    const valid = pairs.valid.flatten();
    const queries = a.reshape(-1, this.config.embeddingDim).index([valid]);
    const keys = noGrad(() => F.normalize(b.reshape(-1, this.config.embeddingDim).index([valid]), 2, 1));
    if (queries.size(0) === 0) {
      throw new Error("no image of the batch has views that overlap; raise --global-scale-min");
    }
    // A snapshot: the queue changes in place before backward runs.
    const negatives = this.queue.embeddings.clone();
    const { loss, accuracy } = pixelInfoNce(queries, keys, negatives, this.config.temperature);
    // Every rank's keys, in rank order, as MoCo enqueues them: the ranks' queues stay equal.
    const allKeys = context.parallel?.gatherRows(keys) ?? keys;
    const fresh =
      allKeys.size(0) > this.queue.length
        ? allKeys.narrow(0, allKeys.size(0) - this.queue.length, this.queue.length)
        : allKeys;
    this.queue.enqueue(fresh);
    return {
      loss,
      metrics: {
        pair_accuracy: accuracy,
        matched_pairs: queries.size(0) / count,
      },
    };
  }

  /** The momentum encoder's batch-norm statistics follow the student's running ones. */
  #trackStudentStatistics(): void {
    const studentBuffers = new Map(this.student.namedBuffers());
    for (const [name, buffer] of this.teacher.namedBuffers()) {
      const source = studentBuffers.get(name);
      if (source) buffer.copy_(source);
    }
  }
}
