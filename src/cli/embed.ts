// onevideo embed: the features of a folder of images, or of a video's frames, from a frozen
// encoder, written as one safetensors (or .npy) file with an index beside it.
import { embed, embedOptions } from "../eval/embedding.ts";
import { jsonOption } from "../options.ts";
import { defineCommand, printResult } from "./command.ts";

export const command = defineCommand({
  name: "embed",
  usage: "onevideo embed --checkpoint <run|file> (--images <folder> | --video <file> [--fps N]) --out <file>",
  options: { ...embedOptions, json: jsonOption },
  notes: [
    "Each image or frame goes through DINO's evaluation view: the short side resized to 256/224",
    "of --size (bicubic, antialiased), the centre --size square, ImageNet's mean and std. The",
    "file holds one float32 array, 'features': [inputs, dim] (or [inputs, patches, dim] for",
    "--tokens patch). <out>.index.json lists each row's file (or frame and time) and the images",
    "skipped: an unreadable image is skipped with a line on stderr, unless --strict.",
  ],
  async run({ json, ...options }) {
    const index = await embed(options);
    const indexPath = index.file.replace(/\.(safetensors|npy)$/, "") + ".index.json";
    const what = options.images !== undefined ? "images" : "frames";
    const skipped = index.skipped.length > 0 ? `, ${index.skipped.length} skipped` : "";
    printResult(
      json,
      [
        `embedded ${index.rows.length} ${what}${skipped}: ${index.shape.join(" x ")} float32`,
        index.file,
        indexPath,
      ],
      {
        file: index.file,
        index: indexPath,
        shape: index.shape,
        rows: index.rows.length,
        skipped: index.skipped,
      },
    );
  },
});
