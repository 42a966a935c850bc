// onevideo tours: builds the "tours" benchmark, a small reproducible stand-in for the Walking
// Tours videos: a camera walking along a panorama of real photos with Fashion-MNIST garments
// crossing the view, plus held-out DAVIS-layout sequences with ground-truth masks.
import { resolve } from "node:path";
import { z } from "zod";
import { defineCommand } from "./command.ts";
import { outOption } from "../options.ts";
import { buildTour } from "../data/tours/build.ts";
import { InputError } from "../errors.ts";

// Even sizes: yuv420p halves both dimensions for its colour planes.
const evenSize = (fallback: number) =>
  z
    .number()
    .int()
    .min(16)
    .max(4096)
    .refine((size) => size % 2 === 0, "must be even (yuv420p video)")
    .default(fallback);

export const toursOptions = {
  out: outOption.describe("output folder (tour.mp4, tour.json, davis/)"),
  seed: z
    .number()
    .int()
    .min(0)
    .max(0xffffffff)
    .default(0)
    .describe("random seed; the same seed gives the same bytes"),
  width: evenSize(128).describe("frame width in pixels"),
  height: evenSize(96).describe("frame height in pixels"),
  fps: z.number().positive().max(120).default(10).describe("frames per second"),
  minutes: z.number().positive().max(1440).optional().describe("tour length in minutes (default 10)"),
  seconds: z
    .number()
    .positive()
    .max(86400)
    .optional()
    .describe("tour length in seconds (instead of --minutes)"),
  objects: z.number().min(0).max(50).default(3).describe("mean number of objects on screen"),
  photos: z.number().int().min(1).max(100).default(12).describe("photos in the panorama"),
  sequences: z.number().int().min(0).max(1000).default(4).describe("held-out DAVIS sequences"),
  sequenceFrames: z.number().int().min(2).max(10000).default(24).describe("frames per held-out sequence"),
};

export const command = defineCommand({
  name: "tours",
  usage: "onevideo tours --out <dir> [options]",
  options: toursOptions,
  notes: [
    "Needs Debian's mate-backgrounds, plasma-workspace-wallpapers and dataset-fashion-mnist",
    "(scripts/setup.sh installs them). Prints one JSON line: frames, objects, sequences and seconds taken.",
  ],
  async run(options) {
    if (options.minutes !== undefined && options.seconds !== undefined)
      throw new InputError("give --minutes or --seconds, not both");
    const seconds = options.seconds ?? (options.minutes ?? 10) * 60;
    if (Math.round(seconds * options.fps) < 1)
      throw new InputError(`a ${seconds} s tour at ${options.fps} fps has no frames; give a longer one`);
    const started = performance.now();
    const manifest = await buildTour({
      out: resolve(options.out),
      seed: options.seed,
      width: options.width,
      height: options.height,
      fps: options.fps,
      seconds,
      density: options.objects,
      photos: options.photos,
      sequences: options.sequences,
      sequenceFrames: options.sequenceFrames,
    });
    console.log(
      JSON.stringify({
        out: resolve(options.out),
        frames: manifest.frames,
        objects: manifest.objects.length,
        sequences: manifest.davis.sequences.length,
        seconds_taken: Number(((performance.now() - started) / 1000).toFixed(2)),
      }),
    );
  },
});
