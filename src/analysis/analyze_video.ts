// One video's analysis, streamed through ffmpeg one frame at a time so that memory does not
// grow with the video (only a few numbers per frame are kept): lightness, content change and
// shots on every sampled frame, objects per frame on some of them when a counter is given.
import { decodeFrames, scaledSize } from "../video/decode.ts";
import { InputError } from "../errors.ts";
import { type VideoInfo } from "../video/probe.ts";
import { type ColourHistogram, colourHistogram, contentChange } from "./content_change.ts";
import { frameLightness } from "./lightness.ts";
import type { ObjectCounter } from "./object_count.ts";
import { type CutDetection, detectCuts } from "./shot_detection.ts";
import { type Shot, shotsFromCuts } from "./shots.ts";
import { summarise, type Summary } from "./summary.ts";

export interface ObjectCounting {
  counter: ObjectCounter;
  /** Frames per second whose objects are counted (at most the sampling rate). */
  fps: number;
  /** Frames per encoder forward pass. */
  batchSize: number;
}

export interface AnalysisSettings {
  /** Frames analysed per second; every frame when absent. */
  sampleFps?: number;
  /** Short side of the frames analysed (never more than the video's own). */
  shortSide: number;
  minimumShotSeconds: number;
  cuts: Omit<CutDetection, "minimumShotSamples">;
  objects?: ObjectCounting;
  /** Why objects are not counted, when they are not. */
  objectsNote?: string;
  /** Called after each sampled frame with the source frame number. */
  onFrame?: (frame: number) => void;
}

export interface VideoAnalysis {
  video: { path: string; codec: string; width: number; height: number; fps: number; frames: number };
  sampling: { frame_step: number; sample_fps: number; analysis_width: number; analysis_height: number };
  /**
   * One entry per sampled frame: its source frame number, time in seconds, mean and spread of
   * L*, and content change from the previous sample.
   */
  series: {
    frame: number[];
    time: number[];
    lightness: number[];
    lightness_spread: number[];
    content_change: number[];
  };
  shots: Shot[];
  objects?: { frame: number[]; time: number[]; count: number[] };
  objects_note?: string;
  summary: Summary;
}

const round = (value: number, digits: number) => +value.toFixed(digits);

/** Every `frameStep`-th frame is analysed: the step that comes closest to `sampleFps`. */
export function frameStepFor(fps: number, sampleFps: number | undefined): number {
  return sampleFps === undefined ? 1 : Math.max(1, Math.round(fps / sampleFps));
}

/**
 * The decoded frames; a video that yields none, whether ffmpeg ends quietly or fails (its last
 * stderr line is rarely telling then), is one clear error. An unsupported codec keeps its own.
 */
async function* withNoFramesExplained(
  frames: AsyncGenerator<Uint8Array>,
  path: string,
): AsyncGenerator<Uint8Array> {
  const noFrames = new InputError(
    `${path} has no decodable video frames (ffmpeg decoded none); check that it plays, or re-encode it`,
  );
  let delivered = 0;
  try {
    for await (const frame of frames) {
      delivered++;
      yield frame;
    }
  } catch (error) {
    const failedBlind = error instanceof InputError && error.message.includes("ffmpeg failed while decoding");
    throw delivered === 0 && failedBlind ? noFrames : error;
  }
  if (delivered === 0) throw noFrames;
}

export async function analyzeVideo(info: VideoInfo, settings: AnalysisSettings): Promise<VideoAnalysis> {
  const frameStep = frameStepFor(info.fps, settings.sampleFps);
  const sampleFps = info.fps / frameStep;
  const objects = settings.objects;
  // The encoder should not see frames enlarged from a smaller analysis size.
  const wanted = Math.max(settings.shortSide, objects?.counter.inputShortSide ?? 0);
  const { width, height } = scaledSize(info.width, info.height, Math.min(wanted, info.width, info.height));
  const objectEvery = objects ? Math.max(1, Math.round(sampleFps / objects.fps)) : 0;

  const series: VideoAnalysis["series"] = {
    frame: [],
    time: [],
    lightness: [],
    lightness_spread: [],
    content_change: [],
  };
  const objectSeries = { frame: [] as number[], time: [] as number[], count: [] as number[] };
  let pendingObjectFrames: Uint8Array[] = [];
  const countPending = () => {
    if (!objects || pendingObjectFrames.length === 0) return;
    objectSeries.count.push(...objects.counter.count(pendingObjectFrames, width, height));
    pendingObjectFrames = [];
  };

  let previous: ColourHistogram | null = null;
  let sample = 0;
  const frames = decodeFrames(info.path, {
    width,
    height,
    fps: info.fps,
    select: frameStep > 1 ? `not(mod(n,${frameStep}))` : undefined,
  });
  for await (const rgb of withNoFramesExplained(frames, info.path)) {
    const frame = sample * frameStep;
    const time = frame / info.fps;
    const { mean, spread } = frameLightness(rgb);
    const histogram = colourHistogram(rgb);
    series.frame.push(frame);
    series.time.push(round(time, 3));
    series.lightness.push(round(mean, 2));
    series.lightness_spread.push(round(spread, 2));
    series.content_change.push(previous ? round(contentChange(previous, histogram), 4) : 0);
    previous = histogram;
    if (objects && sample % objectEvery === 0) {
      objectSeries.frame.push(frame);
      objectSeries.time.push(round(time, 3));
      pendingObjectFrames.push(rgb);
      if (pendingObjectFrames.length >= objects.batchSize) countPending();
    }
    settings.onFrame?.(frame);
    sample++;
  }
  countPending();

  // Frames after the last sampled one still belong to the video (up to the next sample).
  const lastSampled = series.frame.at(-1)!;
  const frameCount = Math.max(lastSampled + 1, Math.min(lastSampled + frameStep, info.frameCount));
  const cuts = detectCuts(series.content_change, {
    ...settings.cuts,
    minimumShotSamples: Math.max(1, Math.round(settings.minimumShotSeconds * sampleFps)),
  });
  const shots = shotsFromCuts(
    cuts.map((index) => series.frame[index]),
    frameCount,
    info.fps,
  );
  const video = {
    path: info.path,
    codec: info.codec,
    width: info.width,
    height: info.height,
    fps: info.fps,
    frames: frameCount,
  };
  return {
    video,
    sampling: {
      frame_step: frameStep,
      sample_fps: round(sampleFps, 3),
      analysis_width: width,
      analysis_height: height,
    },
    series,
    shots,
    ...(objects ? { objects: objectSeries } : { objects_note: settings.objectsNote }),
    summary: summarise({
      video,
      time: series.time,
      lightness: series.lightness,
      lightnessSpread: series.lightness_spread,
      shots,
      objectCounts: objects ? objectSeries.count : undefined,
    }),
  };
}
