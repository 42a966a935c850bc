// The DAVIS-2017 folder layout: JPEGImages/480p/<seq>/*.jpg frames, Annotations/480p/<seq>/*.png
// palette masks (pixel = object id, 0 background, 255 void), ImageSets/2017/<split>.txt lists.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join } from "node:path";
import { InputError } from "../errors.ts";
import { writePng } from "../image/png.ts";
import { decodePng } from "../image/png_decode.ts";

export const davisResolution = "480p";
export const voidLabel = 255;

/** An object-id mask: one byte per pixel, row-major. */
export interface IndexMask {
  width: number;
  height: number;
  data: Uint8Array;
}

export function davisImagesDir(root: string): string {
  return join(root, "JPEGImages", davisResolution);
}

export function davisAnnotationsDir(root: string): string {
  return join(root, "Annotations", davisResolution);
}

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/** The sub-folders of a folder of per-sequence folders, sorted. */
export function listSequenceFolders(dir: string): string[] {
  if (!isDirectory(dir))
    throw new InputError(`folder not found: ${dir}; give a folder of <sequence>/ folders`);
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

/** The sequences of a DAVIS root: those listed in ImageSets/2017/<split>.txt, else every annotated one. */
export function listSequences(root: string, split?: string): string[] {
  if (split === undefined) {
    const annotations = davisAnnotationsDir(root);
    if (!isDirectory(annotations)) {
      throw new InputError(`DAVIS annotations not found: ${annotations}; give the DAVIS-2017 root folder`);
    }
    return listSequenceFolders(annotations);
  }
  const listFile = join(root, "ImageSets", "2017", `${split}.txt`);
  if (!existsSync(listFile)) {
    throw new InputError(
      `DAVIS split list not found: ${listFile}; give the DAVIS-2017 root and a split it has`,
    );
  }
  return readFileSync(listFile, "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
}

/** The frame names (file names without extension) of one sequence folder, sorted. */
export function listFrameNames(sequenceDir: string, extension: ".jpg" | ".png"): string[] {
  if (!isDirectory(sequenceDir)) {
    throw new InputError(`sequence folder not found: ${sequenceDir}; check the sequence name and the root`);
  }
  const names = readdirSync(sequenceDir)
    .filter((file) => extname(file).toLowerCase() === extension)
    .map((file) => file.slice(0, -extension.length))
    .sort();
  if (names.length === 0) throw new InputError(`${sequenceDir} holds no ${extension} files`);
  return names;
}

const colorNames: Record<string, string> = { rgb: "an RGB", rgba: "an RGBA", "grey-alpha": "a grey+alpha" };

/** Reads a palette (or 8-bit greyscale) PNG's pixel values as object ids. */
export function readIndexMask(path: string): IndexMask {
  if (!existsSync(path)) throw new InputError(`mask not found: ${path}`);
  let image;
  try {
    image = decodePng(readFileSync(path));
  } catch (error) {
    throw new InputError(`${path} is not a PNG mask this reader can read: ${(error as Error).message}`);
  }
  if (image.color !== "palette" && image.color !== "grey") {
    throw new InputError(
      `${path} is ${colorNames[image.color]} PNG, whose colours cannot be read as object ids; ` +
        "save masks as palette (indexed) or greyscale PNGs whose pixel values are the ids",
    );
  }
  return { width: image.width, height: image.height, data: image.data };
}

/** DAVIS's palette: the VOC colour map, which spreads each index's bits over the high bits of r, g, b. */
export function davisPalette(): [number, number, number][] {
  const palette: [number, number, number][] = [];
  for (let index = 0; index < 256; index++) {
    const rgb: [number, number, number] = [0, 0, 0];
    let bits = index;
    for (let level = 7; level >= 0; level--) {
      for (let channel = 0; channel < 3; channel++) rgb[channel] |= ((bits >> channel) & 1) << level;
      bits >>= 3;
    }
    palette.push(rgb);
  }
  return palette;
}

/** Writes an object-id mask as a palette PNG with DAVIS's colours. */
export function writeIndexMask(path: string, mask: IndexMask): void {
  writePng(path, { ...mask, channels: 1 }, davisPalette());
}
