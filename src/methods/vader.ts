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
import {
  type DenseBackbone,
  denseBackbones,
  denseEncoder,
  type DenseEncoder,
  denseOutputSize,
} from "../models/dense.ts";
import { type ModelMetadata, vitMetadata } from "../models/model_metadata.ts";
import type { ResNetArchitecture } from "../models/resnet.ts";
import { vitArchitectures, type VitArchitecture, VisionTransformer } from "../models/vit.ts";
import { positiveInt, withDefaults } from "../options.ts";
import { F, noGrad, type Tensor } from "../torch/index.ts";
import { sharedOptions } from "../train/config.ts";
import type { StepContext, StepResult, TrainableMethod } from "../train/method.ts";
import type { MethodDefinition } from "./definition.ts";
import { pixelInfoNce } from "./pixel_contrast.ts";
import { PixelQueue } from "./pixel_queue.ts";

// The local-crop options are DINO's; VADeR's views are two full-size crops.
const {
  localScaleMin: _min,
  localScaleMax: _max,
  localBlurProbability: _blur,
  ...viewAugmentation
} = augmentationOptions;

export const vaderOptions = {
  // MoCo v2's optimisation: SGD, lr 0.03 per 256, weight decay 1e-4, constant momentum 0.999.
  ...withDefaults(sharedOptions, {
    optimizer: "sgd",
    lr: 0.03,
    minLr: 0,
    warmupEpochs: 0,
    weightDecay: 1e-4,
    weightDecayEnd: 1e-4,
    clipGrad: 0,
    teacherMomentum: 0.999,
    teacherMomentumEnd: 0.999,
    // Single frames (or, with --frame-gap, frames t and t + gap of 8 consecutive ones).
    frameStride: 1,
  }),
  arch: z
    .enum(denseBackbones as [string, ...string[]])
    .default("resnet50")
    .describe("backbone: resnet18 or resnet50 with an FPN decoder, or a ViT with an upsampling decoder"),
  embeddingDim: positiveInt.default(128).describe("channels of the per-pixel embeddings (D)"),
  decoderWidth: positiveInt.default(256).describe("channels inside the decoder"),
  pairsPerImage: positiveInt.default(32).describe("matched pixels per image (P)"),
  queueLength: positiveInt.default(65536).describe("negatives: pixel embeddings kept from earlier batches"),
  temperature: z.number().positive().default(0.07).describe("InfoNCE temperature"),
  // The first global view is view A, the second view B.
  ...withDefaults(viewAugmentation, {
    globalScaleMin: 0.2,
    blurProbability: 0.5,
    secondBlurProbability: 0.5,
    solarizeProbability: 0,
  }),
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
  .object({ method: z.literal("vader").default("vader"), ...vaderOptions })
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

/** The dense encoder a VADeR config trains, as its exported weights describe it. */
export function vaderModel(config: VaderConfig): ModelMetadata {
  const isVit = config.arch in vitArchitectures;
  return {
    kind: "dense",
    backbone: config.arch as DenseBackbone,
    embeddingDim: config.embeddingDim,
    decoderWidth: config.decoderWidth,
    ...(isVit ? { patchSize: config.patchSize, imageSize: config.imageSize } : {}),
  };
}

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

  constructor(readonly config: VaderConfig) {
    this.student = createVaderEncoder(config, config.dropPathRate);
    this.teacher = createVaderEncoder(config, 0);
    this.teacher.loadStateDict(this.student.stateDict());
    // The momentum encoder normalises with running statistics (tracked from the student,
    // below), so its keys carry nothing about which images share the batch: a single
    // process cannot shuffle batch-norm batches as MoCo does across GPUs.
    this.teacher.freeze_();
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

  exports() {
    const { arch } = this.config;
    const backbone = this.teacher.backbone;
    const model: ModelMetadata =
      backbone instanceof VisionTransformer
        ? vitMetadata(backbone, arch as VitArchitecture)
        : { kind: "resnet", architecture: arch as ResNetArchitecture };
    return {
      backbone: { module: backbone, model },
      dense: { module: this.teacher, model: vaderModel(this.config) },
    };
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

export const vader: MethodDefinition<VaderConfig, VaderMethod> = {
  options: vaderOptions,
  schema: vaderConfigSchema,
  create: (config) => new VaderMethod(config),
  readsClips: (config) => config.frameGap > 0,
  presets: {
    demo: {
      arch: "resnet18",
      imageSize: 64,
      batchSize: 16,
      // 8 batches of 16 images x 32 pairs.
      queueLength: 4096,
      // MoCo's 0.03 as the step's own rate: scaled down to a batch of 16 (0.002) it barely
      // moves a network from scratch in 150 steps.
      lr: 0.48,
      steps: 150,
      clipSpacing: 8,
      clipLength: 8,
      frameShortSide: 74,
      logEvery: 10,
      checkpointEvery: 50,
    },
    // The demo's network and rate on footage stored whole (a tour's 96-pixel side): the cpu
    // recipe bench:one-video trains for its budget. Not tuned further (see issue 18's note).
    cpu: {
      arch: "resnet18",
      imageSize: 64,
      batchSize: 16,
      queueLength: 4096,
      lr: 0.48,
      steps: 1000,
      frameShortSide: 96,
      logEvery: 50,
      checkpointEvery: 500,
    },
  },
};
