// The few numbers that say whether footage suits pretraining (DoRA's Figure 2 compares
// datasets by them): how long, how often it cuts, how much the light changes, how many
// objects a frame holds.
import { type Shot, shotLengths } from "./shots.ts";

export interface LightnessSummary {
  min: number;
  max: number;
  mean: number;
  /** max - min, in L* units. */
  range: number;
  /** Least-squares slope of mean L* against time, in L* per minute: the drift of the light. */
  trend_per_minute: number;
}

export interface Summary {
  duration_s: number;
  width: number;
  height: number;
  fps: number;
  frames: number;
  sampled_frames: number;
  shot_count: number;
  shots_per_minute: number;
  mean_shot_s: number;
  longest_shot_s: number;
  lightness: LightnessSummary;
  /** Mean over the sampled frames of each frame's L* spread. */
  mean_lightness_spread: number;
  objects?: { mean: number; min: number; max: number };
}

const round = (value: number, digits = 2) => +value.toFixed(digits);
const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
// Loops, not Math.min(...values): an hour of frames is more arguments than a call can take.
const minimum = (values: number[]) => values.reduce((low, value) => Math.min(low, value), Infinity);
const maximum = (values: number[]) => values.reduce((high, value) => Math.max(high, value), -Infinity);

/** Slope of y against x by least squares (0 when x does not vary). */
export function leastSquaresSlope(x: number[], y: number[]): number {
  const [xMean, yMean] = [mean(x), mean(y)];
  let covariance = 0;
  let variance = 0;
  for (let i = 0; i < x.length; i++) {
    covariance += (x[i] - xMean) * (y[i] - yMean);
    variance += (x[i] - xMean) ** 2;
  }
  return variance > 0 ? covariance / variance : 0;
}

export function summarise(input: {
  video: { width: number; height: number; fps: number; frames: number };
  time: number[];
  lightness: number[];
  lightnessSpread: number[];
  shots: Shot[];
  objectCounts?: number[];
}): Summary {
  const { video, time, lightness, shots, objectCounts } = input;
  const duration = video.frames / video.fps;
  const lengths = shotLengths(shots);
  const [low, high] = [minimum(lightness), maximum(lightness)];
  return {
    duration_s: round(duration, 3),
    width: video.width,
    height: video.height,
    fps: round(video.fps, 3),
    frames: video.frames,
    sampled_frames: time.length,
    shot_count: shots.length,
    shots_per_minute: round(shots.length / (duration / 60)),
    mean_shot_s: round(mean(lengths), 3),
    longest_shot_s: round(maximum(lengths), 3),
    lightness: {
      min: round(low),
      max: round(high),
      mean: round(mean(lightness)),
      range: round(high - low),
      trend_per_minute: round(leastSquaresSlope(time, lightness) * 60, 3),
    },
    mean_lightness_spread: round(mean(input.lightnessSpread)),
    ...(objectCounts && objectCounts.length > 0
      ? {
          objects: {
            mean: round(mean(objectCounts)),
            min: minimum(objectCounts),
            max: maximum(objectCounts),
          },
        }
      : {}),
  };
}
