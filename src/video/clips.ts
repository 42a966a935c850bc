// Clip sampling as DoRA does it: clips of T consecutive frames (optionally strided),
// one clip start every S frames, visited in a seeded random order that changes per epoch.
import { InputError } from "../errors.ts";

export interface ClipSampling {
  /** Frames per clip (T). */
  clipLength: number;
  /** Step between the frames of a clip (1 = consecutive). */
  frameStride: number;
  /** Frames between the starts of consecutive clips (S). */
  clipSpacing: number;
}

export const doraSampling: ClipSampling = { clipLength: 8, frameStride: 1, clipSpacing: 60 };

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

/** First frame of every clip that fits entirely inside the video. */
export function clipStarts(frameCount: number, sampling: ClipSampling, video = "the video"): number[] {
  validateSampling(sampling);
  const span = clipSpan(sampling);
  if (frameCount < span) {
    throw new InputError(
      `${video} has ${frameCount} frames, shorter than one clip (${span} frames); use fewer or closer frames per clip`,
    );
  }
  const starts: number[] = [];
  for (let start = 0; start + span <= frameCount; start += sampling.clipSpacing) starts.push(start);
  return starts;
}

/** The frame indices of the clip that starts at `start`. */
export function clipFrames(start: number, sampling: ClipSampling): number[] {
  return Array.from({ length: sampling.clipLength }, (_, i) => start + i * sampling.frameStride);
}

/**
 * The ffmpeg select expression keeping exactly the clip frames, counting n from the
 * first clip's start (which must be a clip start).
 */
export function clipSelectExpression(sampling: ClipSampling): string {
  const phase = `mod(n,${sampling.clipSpacing})`;
  const keepSpan = `lt(${phase},${clipSpan(sampling)})`;
  return sampling.frameStride === 1 ? keepSpan : `${keepSpan}*not(mod(${phase},${sampling.frameStride}))`;
}
