// DoRA (Venkataramanan et al., ICLR 2024): DINO's teacher and student, where the student
// learns from object-centred views of a clip. The teacher discovers k objects in a clip's
// first frame from k of its heads' [CLS] attention, tracks them through the clip by
// cross-attention, and the student sees each frame masked to each object (plus local
// crops) and matches the teacher's output on the whole frame.
import { z } from "zod";
import { augmentView, distortColors } from "../augment/multicrop.ts";
import { randomResizedCrops } from "../augment/crop.ts";
import type { Random } from "../util/random.ts";
import { vitArchitectures, vitConfig } from "../models/vit.ts";
import { F, keep, noGrad, type Tensor } from "../torch/index.ts";
import { discoverInClips } from "../discovery/clip_discovery.ts";
import { positiveInt, withDefaults } from "../options.ts";
import type { StepContext, StepResult } from "../train/method.ts";
import type { MethodDefinition } from "./definition.ts";
import { dinoConfigSchema, dinoDemoPreset, DinoMethod, dinoOptions } from "./dino.ts";

export const doraOptions = {
  ...withDefaults(dinoOptions, { localCrops: 6 }),
  objects: positiveInt.default(3).describe("objects discovered per clip: k heads chosen at random each step"),
  attentionBlock: z
    .number()
    .int()
    .default(-1)
    .describe("block whose [CLS] attention, queries and keys are used (-1 last, -2 second-to-last)"),
  sinkhornIterations: positiveInt.default(30).describe("Sinkhorn-Knopp iterations refining the prototypes"),
  sinkhornEpsilon: z.number().positive().default(0.05).describe("Sinkhorn-Knopp entropy weight"),
  maskedViewSize: positiveInt.optional().describe("size of the student's masked views (default: image size)"),
  maskLossWeight: z.number().min(0).default(1).describe("weight of the masked-object loss"),
  localLossWeight: z.number().min(0).default(1).describe("weight of the local-crop loss"),
};

export const doraConfigSchema = z
  .object({ method: z.literal("dora").default("dora"), ...doraOptions })
  .strict()
  .superRefine((config, context) => {
    const dino = dinoConfigSchema.safeParse(
      Object.fromEntries(Object.entries(config).filter(([key]) => key in dinoOptions)),
    );
    for (const issue of dino.success ? [] : dino.error.issues) {
      context.addIssue({ code: "custom", path: issue.path, message: issue.message });
    }
    const heads = vitArchitectures[config.arch].numHeads;
    if (config.objects > heads) {
      context.addIssue({
        code: "custom",
        path: ["objects"],
        message: `${config.objects} objects need as many heads, and ${config.arch} has ${heads}`,
      });
    }
    if (config.video === undefined && (config.images !== undefined || config.dataset !== undefined)) {
      context.addIssue({
        code: "custom",
        path: ["video"],
        message: "DoRA learns from a video's clips; give --video",
      });
    }
    if (config.maskedViewSize !== undefined && config.maskedViewSize % config.patchSize !== 0) {
      context.addIssue({
        code: "custom",
        path: ["maskedViewSize"],
        message: `${config.maskedViewSize} is not a multiple of the patch size ${config.patchSize}`,
      });
    }
    const depth = vitConfig(config.arch).depth;
    if (config.attentionBlock < -depth || config.attentionBlock >= depth) {
      context.addIssue({
        code: "custom",
        path: ["attentionBlock"],
        message: `${config.arch} has ${depth} blocks: use -${depth} .. ${depth - 1}`,
      });
    }
    if (config.maskLossWeight + config.localLossWeight === 0) {
      context.addIssue({ code: "custom", path: ["maskLossWeight"], message: "both loss weights are 0" });
    }
  });

export type DoraConfig = z.infer<typeof doraConfigSchema>;

/** k distinct heads out of `heads`, drawn afresh each step. */
export function chooseHeads(heads: number, k: number, random: Random): number[] {
  const all = Array.from({ length: heads }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random.next() * (heads - i));
    [all[i], all[j]] = [all[j], all[i]];
  }
  return all.slice(0, k);
}

/** What the teacher discovered in a batch of clips, for pictures and tests. */
export interface Discovery {
  heads: number[];
  /** [clips, T, k, S, S] pixel masks of the teacher's view. */
  masks: Tensor;
}

export class DoraMethod extends DinoMethod {
  /** The last step's discovery (disposed by the next step). */
  lastDiscovery: Discovery | null = null;

  constructor(readonly doraConfig: DoraConfig) {
    super(doraConfig);
  }

  /** Object masks [clips, T, k, S, S] of a teacher view [clips * T, 3, S, S], and the teacher's outputs. */
  discover(view: Tensor, clips: number, heads: number[]): { masks: Tensor; teacherOutput: Tensor } {
    return noGrad(() => {
      const { masks, cls } = discoverInClips(this.teacher.backbone, view, clips, heads, this.doraConfig);
      using features = cls;
      return { masks, teacherOutput: this.teacher.head.forward(features) };
    });
  }

  /**
   * A batch of clips' views: one crop per clip (the frames must stay aligned for tracking),
   * distorted once for the teacher and once for the student, the k heads that discover this
   * step's objects, and each frame's local crops (as DINO's).
   */
  clipViews(
    images: Tensor,
    random: Random,
  ): { teacherView: Tensor; studentView: Tensor; heads: number[]; locals: Tensor[] } {
    const config = this.doraConfig;
    const groups = Array.from({ length: images.size(0) }, (_, i) => Math.floor(i / config.clipLength));
    const [teacherGlobal, studentGlobal] = this.augmentation.globalViews;
    const { crops } = randomResizedCrops(
      images,
      {
        size: teacherGlobal.size,
        scale: teacherGlobal.scale,
        flipProbability: this.augmentation.flipProbability,
      },
      random,
      groups,
    );
    const teacherView = distortColors(crops, teacherGlobal, this.augmentation, random);
    const studentView = distortColors(crops, studentGlobal, this.augmentation, random);
    crops.dispose();
    const heads = chooseHeads(vitArchitectures[config.arch].numHeads, config.objects, random);
    const locals = Array.from({ length: config.localCrops }, () =>
      augmentView(images, this.augmentation.localView, this.augmentation, random),
    ).map((view) => view.images);
    return { teacherView, studentView, heads, locals };
  }

  override step(images: Tensor, context: StepContext): StepResult {
    const config = this.doraConfig;
    const frames = config.clipLength;
    const clips = images.size(0) / frames;
    const globalView = this.augmentation.globalViews[0];
    const { teacherView, studentView, heads, locals } = this.clipViews(images, context.random);
    const { masks, teacherOutput } = this.discover(teacherView, clips, heads);
    teacherView.dispose();
    const maskedSize = config.maskedViewSize ?? config.imageSize;
    const maskedViews = heads.map((_, object) => {
      using mask = masks.select(2, object).reshape(clips * frames, 1, globalView.size, globalView.size);
      using masked = studentView.mul(mask);
      return maskedSize === globalView.size
        ? masked.view(...masked.shape)
        : F.interpolate(masked, { size: [maskedSize, maskedSize], mode: "bilinear", alignCorners: false });
    });
    studentView.dispose();
    const studentOutputs = this.student.forward([...maskedViews, ...locals]);
    for (const view of [...maskedViews, ...locals]) view.dispose();
    const temperature = this.teacherTemperatureAt(context.epoch);
    const objectOutputs = studentOutputs.slice(0, heads.length);
    const localOutputs = studentOutputs.slice(heads.length);
    // DoRA's per-frame loss: the weighted mean of the masked-object and local-crop terms.
    const { maskLossWeight: wm, localLossWeight: wl } = config;
    let loss = this.loss.forward(objectOutputs, [teacherOutput], temperature, false);
    if (localOutputs.length > 0 && wl > 0) {
      using maskLoss = loss;
      using localLoss = this.loss.forward(localOutputs, [teacherOutput], temperature, false);
      using weighted = maskLoss.mul(wm).add(localLoss.mul(wl));
      loss = weighted.div(wm + wl);
    }
    const signals = this.loss.collapseSignals([teacherOutput], temperature);
    this.loss.updateCenter([teacherOutput], context.parallel);
    const maskArea = masks.mean();
    this.lastDiscovery?.masks.dispose();
    this.lastDiscovery = { heads, masks: keep(masks) };
    for (const output of studentOutputs) output.dispose();
    teacherOutput.dispose();
    return {
      loss,
      metrics: {
        teacher_temperature: temperature,
        teacher_entropy: signals.teacherEntropy,
        teacher_kl_uniform: signals.teacherKlToUniform,
        mask_area: maskArea,
      },
    };
  }
}

export const dora: MethodDefinition<DoraConfig, DoraMethod> = {
  options: doraOptions,
  schema: doraConfigSchema,
  create: (config) => new DoraMethod(config),
  readsClips: () => true,
  // DINO's demo network and 16 frames per batch, as 4 clips of 4 frames.
  presets: { demo: { ...dinoDemoPreset, batchSize: 4, clipLength: 4 } },
};
