// The augmentation's knobs as validated config options (DINO's published values as
// defaults), shared by every method that uses multi-crop views.
import { z } from "zod";
import type { MultiCropConfig } from "./multicrop.ts";

const fraction = z.number().min(0).max(1);
const area = z.number().gt(0).max(1);

export const augmentationOptions = {
  globalScaleMin: area.default(0.4).describe("smallest global crop, as a fraction of the area"),
  localScaleMin: area.default(0.05).describe("smallest local crop"),
  localScaleMax: area.default(0.4).describe("largest local crop"),
  flipProbability: fraction.default(0.5).describe("horizontal flip probability"),
  colorJitterProbability: fraction.default(0.8).describe("colour jitter probability"),
  brightness: z.number().min(0).default(0.4).describe("colour jitter brightness strength"),
  contrast: z.number().min(0).default(0.4).describe("colour jitter contrast strength"),
  saturation: z.number().min(0).default(0.2).describe("colour jitter saturation strength"),
  hue: z.number().min(0).max(0.5).default(0.1).describe("colour jitter hue strength"),
  grayscaleProbability: fraction.default(0.2).describe("grayscale probability"),
  blurProbability: fraction.default(1).describe("blur probability of the first global view"),
  secondBlurProbability: fraction.default(0.1).describe("blur probability of the second global view"),
  localBlurProbability: fraction.default(0.5).describe("blur probability of local views"),
  blurSigmaMin: z.number().positive().default(0.1).describe("smallest blur sigma (pixels at 224)"),
  blurSigmaMax: z.number().positive().default(2).describe("largest blur sigma (pixels at 224)"),
  solarizeProbability: fraction.default(0.2).describe("solarisation probability of the second global view"),
};

export type AugmentationOptions = z.infer<z.ZodObject<typeof augmentationOptions>>;

/** Multi-crop views from the options: two global views of `globalSize`, `localCrops` of `localSize`. */
export function multiCropFromOptions(
  options: AugmentationOptions,
  globalSize: number,
  localSize: number,
  localCrops: number,
): MultiCropConfig {
  const globalScale: [number, number] = [options.globalScaleMin, 1];
  return {
    globalViews: [
      {
        size: globalSize,
        scale: globalScale,
        blurProbability: options.blurProbability,
        solarizeProbability: 0,
      },
      {
        size: globalSize,
        scale: globalScale,
        blurProbability: options.secondBlurProbability,
        solarizeProbability: options.solarizeProbability,
      },
    ],
    localView: {
      size: localSize,
      scale: [options.localScaleMin, options.localScaleMax],
      blurProbability: options.localBlurProbability,
      solarizeProbability: 0,
    },
    localCrops,
    flipProbability: options.flipProbability,
    colorJitter: {
      probability: options.colorJitterProbability,
      brightness: options.brightness,
      contrast: options.contrast,
      saturation: options.saturation,
      hue: options.hue,
    },
    grayscaleProbability: options.grayscaleProbability,
    blurSigma: [options.blurSigmaMin, options.blurSigmaMax],
  };
}

/** DINO's published augmentation, for global views of `globalSize` pixels. */
export function dinoMultiCrop(globalSize: number, localSize: number, localCrops: number): MultiCropConfig {
  return multiCropFromOptions(z.object(augmentationOptions).parse({}), globalSize, localSize, localCrops);
}
