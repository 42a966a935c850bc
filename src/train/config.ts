// Training configuration: one typed, validated schema per method built from the shared
// options below, with the published defaults (DoRA's training of ViT-S/16, DESIGN.md).
// A config file (JSON or YAML) and command-line flags override the defaults; an unknown
// key, a wrong type or an impossible value is one clear error before any work starts.
import { z } from "zod";
import { deviceOption, fraction, outOption, positiveInt, seedOption } from "../options.ts";

/** Options every method shares: data, model, optimisation, schedules, run. */
export const sharedOptions = {
  video: z.string().optional().describe("video file to learn from"),
  images: z.string().optional().describe("image folder (ImageFolder layout) to learn from instead"),
  dataset: z
    .enum(["fashion-mnist"])
    .optional()
    .describe("a bundled image set to learn from instead (Fashion-MNIST's training images)"),
  out: outOption.optional().describe("run folder (default runs/<method>-<time>)"),
  seed: seedOption.describe("seed for weights, data order and augmentation"),
  device: deviceOption,
  precision: z
    .enum(["fp32", "bf16", "fp16"])
    .optional()
    .describe("autocast precision of forward and loss (default bf16 on CUDA, fp32 on CPU)"),
  collectiveTimeout: positiveInt
    .default(1800)
    .describe("seconds a data-parallel worker waits for the others before it stops"),
  arch: z.enum(["vit_nano", "vit_tiny", "vit_small", "vit_base"]).default("vit_small").describe("backbone"),
  patchSize: z.literal([8, 16]).default(16).describe("ViT patch size"),
  imageSize: positiveInt.default(224).describe("global view size in pixels"),
  dropPathRate: fraction.default(0.1).describe("stochastic depth rate of the student"),
  batchSize: positiveInt.default(64).describe("samples per step"),
  epochs: positiveInt.default(100).describe("passes over the data"),
  steps: positiveInt.optional().describe("train this many steps instead of whole epochs"),
  lr: z.number().positive().default(5e-4).describe("peak learning rate at batch 256 (scaled by batch/256)"),
  minLr: z.number().min(0).default(1e-5).describe("final learning rate"),
  warmupEpochs: z.number().min(0).default(10).describe("linear learning-rate warm-up"),
  warmupRatio: fraction
    .optional()
    .describe("share of the run's steps to warm up over (wins over --warmup-epochs)"),
  weightDecay: z.number().min(0).default(0.04).describe("initial weight decay"),
  weightDecayEnd: z.number().min(0).default(0.4).describe("final weight decay (cosine)"),
  clipGrad: z.number().min(0).default(3).describe("per-parameter gradient norm clip (0: off)"),
  optimizer: z
    .enum(["adamw", "sgd"])
    .default("adamw")
    .describe("adamw (DINO's) or sgd with momentum (MoCo's)"),
  sgdMomentum: fraction.default(0.9).describe("SGD momentum"),
  teacherMomentum: fraction.default(0.996).describe("teacher's EMA momentum at the start"),
  teacherMomentumEnd: fraction.default(1).describe("and at the end (cosine; equal: constant, MoCo)"),
  // DoRA's loader: clips of 8 frames 60 apart, one starting at every frame; DINO reads the same frames.
  clipLength: positiveInt.default(8).describe("frames per clip (T)"),
  frameStride: positiveInt.default(60).describe("frames between the frames of a clip"),
  clipSpacing: positiveInt.default(1).describe("frames between clip starts (1: every frame starts one)"),
  frameShortSide: positiveInt
    .optional()
    .describe("stored frame short side (default: 300/224 x --image-size, the side of DoRA's first crop)"),
  cacheDir: z.string().optional().describe("frame store folder (default ~/.cache/onevideo/frames)"),
  logEvery: positiveInt.default(10).describe("steps between metric lines"),
  checkpointEvery: positiveInt.default(500).describe("steps between checkpoints"),
  keepCheckpoints: positiveInt
    .default(2)
    .describe("checkpoints kept; a damaged newest one falls back to the one before"),
};
