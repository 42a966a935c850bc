// DINO's multi-crop augmentation: a few large global views and several small local
// views of each image, each with its own geometry and photometric distortions.
import type { Random } from "../util/random.ts";
import type { Tensor } from "../torch/index.ts";
import { type CropBox, randomResizedCrops } from "./crop.ts";
import {
  type ColorJitterOptions,
  colorJitter,
  normalizeImages,
  randomGaussianBlur,
  randomGrayscale,
  randomSolarize,
} from "./photometric.ts";

export interface ViewOptions {
  size: number;
  scale: [number, number];
  blurProbability: number;
  solarizeProbability: number;
}

export interface MultiCropConfig {
  /** One entry per global view (DINO: two, the second with less blur and some solarisation). */
  globalViews: ViewOptions[];
  localView: ViewOptions;
  localCrops: number;
  flipProbability: number;
  colorJitter: ColorJitterOptions;
  grayscaleProbability: number;
  /**
   * Blur sigma range in pixels at 224-pixel views, as DINO's (0.1-2 px for its 224 and 96 px
   * views alike); every view of a run scales it by the global view's size / 224.
   */
  blurSigma: [number, number];
}

export interface AugmentedView {
  /** Normalised images, [N, 3, size, size]. */
  images: Tensor;
  boxes: CropBox[];
}

/** One augmented view of every image in a [N, 3, H, W] batch in [0, 1]. */
export function augmentView(
  images: Tensor,
  view: ViewOptions,
  config: MultiCropConfig,
  random: Random,
  groups?: number[],
): AugmentedView {
  const { crops, boxes } = randomResizedCrops(
    images,
    { size: view.size, scale: view.scale, flipProbability: config.flipProbability },
    random,
    groups,
  );
  using cropped = crops;
  return { images: distortColors(cropped, view, config, random), boxes };
}

/**
 * The photometric half of a view: colour jitter, grayscale, blur, solarisation and
 * normalisation of crops in [0, 1]. Applied twice to one crop it gives two views whose
 * pixels still correspond (DoRA's teacher frame and its masked student views).
 */
export function distortColors(
  crops: Tensor,
  view: ViewOptions,
  config: MultiCropConfig,
  random: Random,
): Tensor {
  using jittered = colorJitter(crops, config.colorJitter, random);
  using grayed = randomGrayscale(jittered, config.grayscaleProbability, random);
  const sigmaScale = config.globalViews[0].size / 224;
  using blurred = randomGaussianBlur(
    grayed,
    view.blurProbability,
    [config.blurSigma[0] * sigmaScale, config.blurSigma[1] * sigmaScale],
    random,
  );
  using solarized = randomSolarize(blurred, view.solarizeProbability, random);
  return normalizeImages(solarized);
}

/** All views of a batch: the global ones first, then the local ones. */
export function multiCrop(
  images: Tensor,
  config: MultiCropConfig,
  random: Random,
  groups?: number[],
): { globals: AugmentedView[]; locals: AugmentedView[] } {
  return {
    globals: config.globalViews.map((view) => augmentView(images, view, config, random, groups)),
    locals: Array.from({ length: config.localCrops }, () =>
      augmentView(images, config.localView, config, random, groups),
    ),
  };
}
