// DoRA's discovery and tracking, scored: on a tour's held-out sequences (or any DAVIS-layout
// root), each clip's first frame is where the heads' [CLS] attention discovers objects, which
// cross-attention follows through the clip; every frame's masks are scored against the exact
// instance masks (discovery_score.ts). Works with any ViT: untrained, trained, official .pth.
import { join } from "node:path";
import { z } from "zod";
import { normalizeImages } from "../augment/photometric.ts";
import {
  davisAnnotationsDir,
  davisImagesDir,
  listFrameNames,
  listSequences,
  readIndexMask,
} from "../data/davis.ts";
import { rgbBatch } from "../data/frame_source.ts";
import { imageSize, readJpegs } from "../data/image_file.ts";
import { readTourManifest } from "../data/tours/manifest.ts";
import { discoverInClips } from "../discovery/clip_discovery.ts";
import { doraSinkhorn } from "../discovery/sinkhorn.ts";
import { InputError } from "../errors.ts";
import { checkpointOption, deviceOption, validateConfig } from "../options.ts";
import { pickDevice } from "../torch/index.ts";
import { loadEncoder, patchAlignedSize } from "./encoder.ts";
import { bestMatches, type DiscoverySummary, summarizeDiscovery } from "./discovery_score.ts";
import { resizeMask } from "./video_segmentation.ts";

export const discoveryOptions = {
  checkpoint: checkpointOption,
  tour: z.string().describe("tour folder built by 'onevideo tours' (its held-out sequences are scored)"),
  size: z.number().int().positive().default(96).describe("short side the encoder sees"),
  clipLength: z
    .number()
    .int()
    .positive()
    .default(8)
    .describe("frames per clip: the first discovers, all are scored"),
  heads: z.number().int().positive().optional().describe("discover with the first k heads (default: all)"),
  attentionBlock: z.number().int().default(-1).describe("block whose attention is used (-1: the last)"),
  device: deviceOption,
};

export type DiscoveryEvaluationOptions = z.input<z.ZodObject<typeof discoveryOptions>>;

export interface DiscoveryEvaluation extends DiscoverySummary {
  checkpoint: string;
  sequences: ({ name: string } & DiscoverySummary)[];
}

export function evaluateDiscovery(given: DiscoveryEvaluationOptions): DiscoveryEvaluation {
  const options = validateConfig(z.object(discoveryOptions).strict(), given, "eval discovery");
  const root = join(options.tour, readTourManifest(options.tour).davis.root);
  const encoder = loadEncoder(options.checkpoint, pickDevice(options.device));
  const { backbone, patchSize } = encoder;
  const headCount = backbone.config.numHeads;
  const k = options.heads ?? headCount;
  if (k > headCount) throw new InputError(`--heads ${k}: the encoder has ${headCount} heads`);
  const heads = Array.from({ length: k }, (_, head) => head);
  const all: number[] = [];
  const sequences: DiscoveryEvaluation["sequences"] = [];
  for (const name of listSequences(root)) {
    const frames = listFrameNames(join(davisImagesDir(root), name), ".jpg");
    const first = imageSize(join(davisImagesDir(root), name, `${frames[0]}.jpg`));
    const size = patchAlignedSize(first.width, first.height, options.size, patchSize);
    const scores: number[] = [];
    for (let start = 0; start < frames.length; start += options.clipLength) {
      const clip = frames.slice(start, start + options.clipLength);
      const pictures = readJpegs(
        clip.map((frame) => join(davisImagesDir(root), name, `${frame}.jpg`)),
        size,
      );
      const bytes = new Uint8Array(clip.length * size.width * size.height * 3);
      pictures.forEach((picture, i) => bytes.set(picture.data, i * picture.data.length));
      using batch = rgbBatch(bytes, clip.length, size.height, size.width, encoder.device);
      using view = normalizeImages(batch);
      const { masks, cls } = discoverInClips(backbone, view, 1, heads, {
        attentionBlock: options.attentionBlock,
        sinkhornIterations: doraSinkhorn.iterations,
        sinkhornEpsilon: doraSinkhorn.epsilon,
      });
      cls.dispose();
      // [1, T, k, H, W] -> one byte mask per frame and head.
      using bytesOut = masks.to("cpu").to("uint8").contiguous();
      masks.dispose();
      const flat = bytesOut.data() as Uint8Array;
      const pixels = size.width * size.height;
      clip.forEach((frame, t) => {
        const truth = resizeMask(
          readIndexMask(join(davisAnnotationsDir(root), name, `${frame}.png`)),
          size.width,
          size.height,
        );
        const frameMasks = heads.map((_, j) => flat.subarray((t * k + j) * pixels, (t * k + j + 1) * pixels));
        scores.push(...bestMatches(truth, frameMasks));
      });
    }
    all.push(...scores);
    sequences.push({ name, ...summarizeDiscovery(scores) });
  }
  return { checkpoint: encoder.source, ...summarizeDiscovery(all), sequences };
}
