// DINO (Caron et al., 2021) as a method: a student and an EMA teacher, each a ViT with
// DINO's head; the teacher sees the global views, the student all views, and the
// student learns to match the teacher's centred, sharpened outputs.
import { z } from "zod";
import { type MultiCropConfig, multiCrop } from "../augment/multicrop.ts";
import { augmentationOptions, multiCropFromOptions } from "../augment/options.ts";
import { createVit, type VisionTransformer } from "../models/vit.ts";
import { DinoHead, dinoHeadConfig } from "../models/dino_head.ts";
import { Module } from "../nn/index.ts";
import { cat, noGrad, type Tensor } from "../torch/index.ts";
import { vitMetadata } from "../models/model_metadata.ts";
import { positiveInt } from "../options.ts";
import { sharedOptions } from "../train/config.ts";
import type { StepContext, StepResult, TrainableMethod } from "../train/method.ts";
import type { MethodDefinition } from "./definition.ts";
import { DinoLoss } from "./dino_loss.ts";

export const dinoOptions = {
  ...sharedOptions,
  freezeLastLayerEpochs: z.number().min(0).default(1).describe("epochs the head's last layer stays fixed"),
  outDim: positiveInt.default(65536).describe("prototypes in the head's output"),
  headHiddenDim: positiveInt.default(2048).describe("head MLP width"),
  bottleneckDim: positiveInt.default(256).describe("head bottleneck before the last layer"),
  normLastLayer: z.boolean().default(false).describe("fix the last layer's weight norm at 1"),
  ...augmentationOptions,
  localCrops: z.number().int().min(0).default(8).describe("local views per image"),
  localCropSize: positiveInt.optional().describe("local view size (default 96/224 of imageSize)"),
  studentTemperature: z.number().positive().default(0.1).describe("student softmax temperature"),
  teacherTemperature: z.number().positive().default(0.04).describe("teacher softmax temperature"),
  warmupTeacherTemperature: z.number().positive().default(0.04).describe("teacher temperature at the start"),
  warmupTeacherTemperatureEpochs: z
    .number()
    .min(0)
    .default(30)
    .describe("epochs of teacher-temperature warm-up"),
  centerMomentum: z.number().min(0).max(1).default(0.9).describe("momentum of the teacher-output centre"),
};

export const dinoConfigSchema = z
  .object({ method: z.literal("dino").default("dino"), ...dinoOptions })
  .strict()
  .superRefine((config, context) => {
    const problem = (path: string, message: string) =>
      context.addIssue({ code: "custom", path: [path], message });
    if (config.imageSize % config.patchSize !== 0) {
      problem("imageSize", `${config.imageSize} is not a multiple of the patch size ${config.patchSize}`);
    }
    if (config.localCropSize !== undefined && config.localCropSize % config.patchSize !== 0) {
      problem(
        "localCropSize",
        `${config.localCropSize} is not a multiple of the patch size ${config.patchSize}`,
      );
    }
    if (config.localScaleMin > config.localScaleMax) problem("localScaleMin", "exceeds --local-scale-max");
    if (config.blurSigmaMin > config.blurSigmaMax) problem("blurSigmaMin", "exceeds --blur-sigma-max");
    const sources = [config.video, config.images, config.dataset].filter((source) => source !== undefined);
    if (sources.length > 1) problem("video", "give one of --video, --images and --dataset");
  });

export type DinoConfig = z.infer<typeof dinoConfigSchema>;
/** DINO's options, as DoRA shares them under its own method name. */
export type DinoSettings = Omit<DinoConfig, "method">;

export function localCropSize(config: DinoSettings): number {
  if (config.localCropSize !== undefined) return config.localCropSize;
  return Math.max(
    config.patchSize,
    Math.round((config.imageSize * 96) / 224 / config.patchSize) * config.patchSize,
  );
}

/** Backbone + head with DINO's names ("backbone.*", "head.*"), run per resolution group as DINO does. */
export class DinoEncoder extends Module {
  readonly backbone: VisionTransformer;
  readonly head: DinoHead;

  constructor(config: DinoSettings, dropPathRate: number) {
    super();
    this.backbone = this.addModule(
      "backbone",
      createVit(config.arch, { patchSize: config.patchSize, imageSize: config.imageSize, dropPathRate }),
    );
    this.head = this.addModule(
      "head",
      new DinoHead(
        dinoHeadConfig(this.backbone.embedDim, {
          outDim: config.outDim,
          hiddenDim: config.headHiddenDim,
          bottleneckDim: config.bottleneckDim,
          normLastLayer: config.normLastLayer,
        }),
      ),
    );
  }

  /** Head outputs for each view; views of one size go through the backbone together. */
  forward(views: Tensor[]): Tensor[] {
    const features: Tensor[] = [];
    let start = 0;
    while (start < views.length) {
      let end = start + 1;
      while (end < views.length && views[end].size(-1) === views[start].size(-1)) end++;
      using batch =
        end - start === 1 ? views[start].view(...views[start].shape) : cat(views.slice(start, end), 0);
      const { cls, patchTokens } = this.backbone.forward(batch);
      patchTokens.dispose();
      features.push(cls);
      start = end;
    }
    using allFeatures = features.length === 1 ? features[0] : cat(features, 0);
    if (features.length > 1) for (const f of features) f.dispose();
    using outputs = this.head.forward(allFeatures);
    return outputs.chunk(views.length, 0);
  }
}

export class DinoMethod implements TrainableMethod {
  readonly student: DinoEncoder;
  readonly teacher: DinoEncoder;
  readonly loss: DinoLoss;
  readonly augmentation: MultiCropConfig;

  constructor(readonly config: DinoSettings) {
    this.student = new DinoEncoder(config, config.dropPathRate);
    this.teacher = new DinoEncoder(config, 0);
    this.teacher.loadStateDict(this.student.stateDict());
    this.teacher.freeze_();
    this.loss = new DinoLoss({
      outDim: config.outDim,
      studentTemperature: config.studentTemperature,
      centerMomentum: config.centerMomentum,
    });
    this.augmentation = multiCropFromOptions(
      config,
      config.imageSize,
      localCropSize(config),
      config.localCrops,
    );
  }

  /** DINO holds the head's last layer fixed during the first epoch(s): its gradients are dropped. */
  beforeOptimizerStep(epoch: number): void {
    if (epoch < this.config.freezeLastLayerEpochs) this.student.head.cancelLastLayerGradients();
  }

  exports() {
    const backbone = this.teacher.backbone;
    return { backbone: { module: backbone, model: vitMetadata(backbone, this.config.arch) } };
  }

  extraState(): Map<string, Tensor> {
    return new Map([["dino_loss.center", this.loss.center]]);
  }

  /** DINO's teacher temperature: a linear warm-up over whole epochs, then constant. */
  teacherTemperatureAt(epoch: number): number {
    const {
      warmupTeacherTemperature: start,
      teacherTemperature: end,
      warmupTeacherTemperatureEpochs: epochs,
    } = this.config;
    const whole = Math.floor(epoch);
    if (whole >= epochs) return end;
    return epochs <= 1 ? start : start + ((end - start) * whole) / (epochs - 1);
  }

  step(images: Tensor, context: StepContext): StepResult {
    const teacherTemperature = this.teacherTemperatureAt(context.epoch);
    const { globals, locals } = multiCrop(images, this.augmentation, context.random);
    const globalViews = globals.map((view) => view.images);
    const studentOutputs = this.student.forward([...globalViews, ...locals.map((view) => view.images)]);
    const teacherOutputs = noGrad(() => this.teacher.forward(globalViews));
    const loss = this.loss.forward(studentOutputs, teacherOutputs, teacherTemperature);
    const signals = this.loss.collapseSignals(teacherOutputs, teacherTemperature);
    this.loss.updateCenter(teacherOutputs, context.parallel);
    return {
      loss,
      metrics: {
        teacher_temperature: teacherTemperature,
        teacher_entropy: signals.teacherEntropy,
        teacher_kl_uniform: signals.teacherKlToUniform,
      },
    };
  }
}

/** Sized for two CPU cores and a few minutes: the demo command, the real-run tests, the benchmarks. */
export const dinoDemoPreset = {
  arch: "vit_tiny",
  patchSize: 8,
  imageSize: 64,
  localCrops: 2,
  localCropSize: 32,
  outDim: 256,
  headHiddenDim: 512,
  bottleneckDim: 128,
  batchSize: 16,
  steps: 150,
  // At this scale frames look alike at initialisation (cosine 0.99 between [CLS] features);
  // higher rates or a softer teacher drift to the uniform collapse, so the teacher is sharper.
  lr: 0.0005,
  warmupEpochs: 1,
  minLr: 1e-5,
  teacherTemperature: 0.02,
  warmupTeacherTemperature: 0.02,
  teacherMomentum: 0.996,
  freezeLastLayerEpochs: 1,
  // The sampling and frame size of the demo before DoRA's official sampling became the default.
  clipSpacing: 8,
  clipLength: 8,
  frameStride: 1,
  frameShortSide: 74,
  logEvery: 10,
  checkpointEvery: 50,
};

/**
 * The recipe that learns on two CPU cores in minutes (the demo, bench:one-video). Each step is
 * compute-bound (about 0.45 s for 64 images on two cores), so the network is small: ViT-Nano
 * (ViT-Tiny's width at depth 4) on 32-pixel views of 8-pixel patches.
 */
export const dinoCpuPreset = {
  arch: "vit_nano",
  patchSize: 8,
  imageSize: 32,
  localCrops: 2,
  localCropSize: 16,
  // A small head (1024 prototypes, not 65536): at 1.8 M parameters the network is smaller than the default head.
  outDim: 1024,
  headHiddenDim: 512,
  bottleneckDim: 128,
  batchSize: 64,
  steps: 2000,
  // 5e-4 per step at batch 64. With a free last layer and a teacher at 0.04 the teacher went
  // uniform within 150 steps (entropy 0.9 log K); a sharper teacher and a unit-norm last layer
  // keep it clear of both collapses (entropy 0.6 log K at the end on Fashion-MNIST, 0.2 on a tour).
  lr: 0.002,
  normLastLayer: true,
  teacherTemperature: 0.02,
  warmupTeacherTemperature: 0.02,
  // The last layer trains from the start: an epoch is 938 steps on Fashion-MNIST and a dozen on
  // a short tour, so DINO's epoch-long freeze would either hold it all run or not at all.
  freezeLastLayerEpochs: 0,
  // The teacher follows closely at first: a few thousand steps cannot wait on 0.996's 250-step lag.
  teacherMomentum: 0.99,
  // Footage: frames stored whole (a tour's 96-pixel side, not 43 for 32-pixel views) and crops
  // that zoom in, since objects fill a small part of a frame: the global views from 15 % of
  // the frame, the local ones from 3-15 %. (For images that are one object, as Fashion-MNIST's
  // are, DINO's own 40 % and 5-40 % suit better: bench:one-video gives them to that row.)
  frameShortSide: 96,
  globalScaleMin: 0.15,
  localScaleMin: 0.03,
  localScaleMax: 0.15,
  logEvery: 50,
  checkpointEvery: 500,
};

export const dino: MethodDefinition<DinoConfig, DinoMethod> = {
  options: dinoOptions,
  schema: dinoConfigSchema,
  create: (config) => new DinoMethod(config),
  readsClips: () => false,
  presets: { demo: dinoDemoPreset, cpu: dinoCpuPreset },
};
