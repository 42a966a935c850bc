// onevideo analyze: does this footage suit pretraining? For each video, lightness over time,
// shots and (with an encoder) objects per frame, as analysis.json, PNG plots and an HTML
// report with every video on the same axes. Every input is checked before any work starts.
import { statSync } from "node:fs";
import { join, resolve } from "node:path";
import { z } from "zod";
import { defineCommand, printResult } from "./command.ts";
import { checkpointOption, deviceOption, jsonOption, outOption } from "../options.ts";
import { analyzeVideo, frameStepFor, type ObjectCounting } from "../analysis/analyze_video.ts";
import { defaultCutDetection } from "../analysis/shot_detection.ts";
import { Progress } from "../util/progress.ts";
import { InputError, UsageError } from "../errors.ts";
import { writeFileAtomically } from "../util/atomic_file.ts";
import { makeWritableFolder } from "../util/folders.ts";
import { probeVideo } from "../video/probe.ts";
import { writeAnalysisPlots } from "../viz/analysis_plots.ts";
import { analysisReportHtml } from "../viz/analysis_report.ts";

export const analyzeOptions = {
  out: outOption.default("analysis").describe("folder for analysis.json, the plots and report.html"),
  sampleFps: z
    .number()
    .positive()
    .optional()
    .describe("frames analysed per second: every round(fps / N)-th frame (default: every frame)"),
  size: z.number().int().min(16).default(144).describe("short side of the analysed frames, in pixels"),
  minShot: z.number().positive().default(0.5).describe("shortest shot in seconds"),
  cutChange: z
    .number()
    .positive()
    .max(1)
    .default(defaultCutDetection.minimumChange)
    .describe("content change (0..1) a cut needs at least"),
  cutRatio: z
    .number()
    .min(1)
    .default(defaultCutDetection.ratioToNeighbours)
    .describe("times the neighbouring frames' mean change a cut needs"),
  checkpoint: checkpointOption
    .optional()
    .describe("encoder that counts objects: run folder, .safetensors or .pth"),
  objectFps: z.number().positive().default(1).describe("frames per second whose objects are counted"),
  objectSize: z
    .number()
    .int()
    .positive()
    .optional()
    .describe("short side the encoder sees (default: its training size)"),
  objectBatch: z.number().int().positive().default(8).describe("frames per encoder pass"),
  device: deviceOption,
  json: jsonOption,
};

const noEncoderNote =
  "objects per frame were not counted: they need an encoder, give --checkpoint <run|weights|.pth>";

function requireFolderPath(path: string): void {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    return; // made below
  }
  if (!stats.isDirectory()) throw new InputError(`--out ${path} is a file; give a folder`);
}

export const command = defineCommand({
  name: "analyze",
  usage: "onevideo analyze <video...> [--out <dir>] [--sample-fps N] [--checkpoint <run|file>] [options]",
  options: analyzeOptions,
  notes: [
    "Writes analysis.json (per-frame series, shots, summary), lightness.png, shot_lengths.png,",
    "objects.png (with --checkpoint) and report.html; several videos share one report and axes.",
  ],
  positionals: true,
  async run(options, videos) {
    if (videos.length === 0) throw new UsageError("give at least one video: onevideo analyze <video...>");
    const out = resolve(options.out);
    requireFolderPath(out);
    makeWritableFolder(out, "the analysis to --out");
    const infos = [];
    for (const video of videos) infos.push(await probeVideo(video));
    let objects: ObjectCounting | undefined;
    let checkpointSource: string | undefined;
    if (options.checkpoint !== undefined) {
      // libtorch is loaded only when objects are counted.
      const { loadEncoder } = await import("../eval/encoder.ts");
      const { encoderObjectCounter } = await import("../analysis/object_count.ts");
      const { pickDevice } = await import("../torch/device_choice.ts");
      const encoder = loadEncoder(options.checkpoint, pickDevice(options.device));
      checkpointSource = encoder.source;
      objects = {
        counter: encoderObjectCounter(encoder, options.objectSize ?? encoder.backbone.config.imageSize),
        fps: options.objectFps,
        batchSize: options.objectBatch,
      };
    }

    const analyses = [];
    for (const info of infos) {
      const progress = new Progress(
        Math.ceil(info.frameCount / frameStepFor(info.fps, options.sampleFps)),
        "frames",
      );
      let sampled = 0;
      const analysis = await analyzeVideo(info, {
        sampleFps: options.sampleFps,
        shortSide: options.size,
        minimumShotSeconds: options.minShot,
        cuts: {
          ...defaultCutDetection,
          minimumChange: options.cutChange,
          ratioToNeighbours: options.cutRatio,
        },
        objects,
        objectsNote: objects ? undefined : noEncoderNote,
        onFrame: () => {
          if (++sampled % 50 === 0) progress.update(sampled, info.path);
        },
      });
      progress.finish();
      analyses.push(analysis);
    }

    writeFileAtomically(
      join(out, "analysis.json"),
      JSON.stringify({ ...(checkpointSource ? { checkpoint: checkpointSource } : {}), videos: analyses }),
    );
    const plots = writeAnalysisPlots(analyses, out);
    writeFileAtomically(join(out, "report.html"), analysisReportHtml(analyses, plots));
    const lines = analyses.map(({ video, summary }) => {
      const objectsPart = summary.objects ? `, objects per frame ${summary.objects.mean}` : "";
      return (
        `${video.path}: ${summary.duration_s} s, ${summary.shot_count} shot(s), mean shot ${summary.mean_shot_s} s, ` +
        `lightness L* ${summary.lightness.min}-${summary.lightness.max} (trend ${summary.lightness.trend_per_minute}/min)${objectsPart}`
      );
    });
    const videoSummaries = analyses.map(({ video, summary }) => ({ path: video.path, summary }));
    printResult(options.json, [...lines, out], { out, videos: videoSummaries });
  },
});
