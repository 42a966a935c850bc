// Clip sampling as DoRA's loader does it: clips of T frames taken `frameStride` frames apart,
// a clip starting at every `clipSpacing`-th frame (DoRA: every frame).
import { InputError } from "../errors.ts";

export interface ClipSampling {
  /** Frames per clip (T). */
  clipLength: number;
  /** Step between the frames of a clip (1 = consecutive). */
  frameStride: number;
  /** Frames between the starts of consecutive clips (S). */
  clipSpacing: number;
}

export function validateSampling(sampling: ClipSampling): void {
  for (const [name, value] of Object.entries(sampling)) {
    if (!Number.isInteger(value) || value < 1)
      throw new InputError(`${name} must be a positive integer, got ${value}`);
  }
}

/** Frames one clip spans, first to last inclusive. */
export function clipSpan(sampling: ClipSampling): number {
  return (sampling.clipLength - 1) * sampling.frameStride + 1;
}

/**
 * The first frame of every clip, as DoRA's loader counts them: a video of n frames has starts
 * 0 .. n - T x stride - 1 (its dataset length is n - T x stride), one every clipSpacing frames.
 */
export function clipStarts(frameCount: number, sampling: ClipSampling, video = "the video"): number[] {
  validateSampling(sampling);
  const reach = sampling.clipLength * sampling.frameStride;
  if (frameCount <= reach) {
    throw new InputError(
      `${video} has ${frameCount} frames, shorter than one clip (${reach + 1} frames); use fewer or closer frames per clip (--clip-length, --frame-stride)`,
    );
  }
  const starts: number[] = [];
  for (let start = 0; start < frameCount - reach; start += sampling.clipSpacing) starts.push(start);
  return starts;
}

/** The frame indices of the clip that starts at `start`. */
export function clipFrames(start: number, sampling: ClipSampling): number[] {
  return Array.from({ length: sampling.clipLength }, (_, i) => start + i * sampling.frameStride);
}

/** Every frame some clip uses, ascending: what the frame store keeps. */
export function usedFrames(starts: readonly number[], sampling: ClipSampling): number[] {
  const used = new Set<number>();
  for (const start of starts) for (const frame of clipFrames(start, sampling)) used.add(frame);
  return [...used].sort((a, b) => a - b);
}
