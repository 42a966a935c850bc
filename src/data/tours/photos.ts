// The tour's world: real photographs from Debian's wallpaper packages, found with dpkg -L so
// every machine with the same packages sees the same catalogue, decoded by ffmpeg.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { basename, dirname } from "node:path";
import { InputError } from "../../errors.ts";
import type { RgbImage } from "../frame_source.ts";
import { type Random, shuffled } from "../../util/random.ts";
import { installAdvice } from "../../util/system.ts";

export const photoPackages = ["mate-backgrounds", "plasma-workspace-wallpapers"] as const;

// Plasma ships each picture in many sizes (<W>x<H>.jpg); decoding the smallest one that is
// still large enough is several times faster than the 5K originals.
const minimumSourceHeight = 480;

function packageFiles(name: string): string[] {
  try {
    return execFileSync("dpkg", ["-L", name], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })
      .split("\n")
      .filter(Boolean);
  } catch {
    // Both are required: with one missing the catalogue, and so every tour, would differ.
    throw new InputError(`the photo package ${name} is not installed; ${installAdvice(photoPackages)}`);
  }
}

function sizeInName(path: string): { width: number; height: number } | undefined {
  const match = /(\d+)x(\d+)\.jpe?g$/i.exec(path);
  return match ? { width: Number(match[1]), height: Number(match[2]) } : undefined;
}

// The pictures in those packages that are photographs (the rest is rendered art: logos,
// low-poly and 3-D abstracts), by MATE file name or Plasma folder name. An explicit list keeps
// the catalogue, and so every tour, the same when a package update adds new wallpapers.
const photographs = new Set([
  "Aqua",
  "Blinds",
  "Dune",
  "FreshFlower",
  "Garden",
  "GreenMeadow",
  "LadyBird",
  "RainDrops",
  "Storm",
  "TwoWings",
  "Wood",
  "YellowFlower",
  "BytheWater",
  "ColdRipple",
  "ColorfulCups",
  "DarkestHour",
  "EveningGlow",
  "FallenLeaf",
  "Kite",
  "OneStandsOut",
  "Path",
  "summer_1am",
]);

function pictureName(path: string): string {
  const plasma = /\/wallpapers\/([^/]+)\/contents\//.exec(path);
  return plasma ? plasma[1] : basename(path).replace(/(_\d+x\d+)?\.jpe?g$/i, "");
}

/**
 * One file per photograph, sorted: JPEGs only, no preview screenshots, no portrait or dark
 * variants, the smallest size of each picture that is >= 480 high.
 */
export function listPhotos(): string[] {
  const byPicture = new Map<string, string[]>();
  for (const path of photoPackages.flatMap(packageFiles)) {
    if (!/\.jpe?g$/i.test(path) || /screenshot|images_dark/i.test(path)) continue;
    if (!photographs.has(pictureName(path)) || !existsSync(path)) continue;
    const size = sizeInName(path);
    if (size && size.height > size.width) continue;
    // Plasma: <Name>/contents/images[_dark]/<W>x<H>.jpg; MATE: <Name>[_<W>x<H>].jpg.
    const key = path.includes("/contents/") ? dirname(path) : path.replace(/_\d+x\d+(\.jpe?g)$/i, "$1");
    byPicture.set(key, [...(byPicture.get(key) ?? []), path]);
  }
  const photos = [...byPicture.values()].map((alternates) => {
    const area = (path: string) => {
      const size = sizeInName(path);
      if (!size) return Number.MAX_SAFE_INTEGER - 1; // a file without sizes: the original
      return size.height >= minimumSourceHeight ? size.width * size.height : Number.MAX_SAFE_INTEGER;
    };
    return [...alternates].sort((a, b) => area(a) - area(b) || a.localeCompare(b))[0];
  });
  if (photos.length === 0) {
    throw new InputError(
      `no photographs found in ${photoPackages.join(" and ")}; reinstall them: ${installAdvice(photoPackages)}`,
    );
  }
  return photos.sort();
}

/** `count` photos picked under the random stream (all of them when there are fewer). */
export function pickPhotos(photos: readonly string[], count: number, random: Random): string[] {
  return shuffled(photos, random).slice(0, Math.min(count, photos.length));
}

/** A photo's RGB bytes scaled to `height` rows, its aspect kept. */
export function decodePhoto(path: string, height: number): RgbImage {
  let output: Buffer;
  try {
    output = execFileSync(
      "ffmpeg",
      [
        ...["-v", "error", "-i", path, "-frames:v", "1"],
        ...["-vf", `scale=-1:${height}:flags=area,format=rgb24`, "-f", "rawvideo", "-"],
      ],
      { maxBuffer: 1 << 28 },
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT")
      throw new InputError(`ffmpeg is not installed; ${installAdvice(["ffmpeg"])}`);
    throw new InputError(`${path} could not be decoded by ffmpeg; reinstall ${basename(dirname(path))}`);
  }
  const width = output.length / (3 * height);
  if (!Number.isInteger(width) || width < 1) throw new InputError(`${path} could not be decoded by ffmpeg`);
  return { width, height, data: new Uint8Array(output.buffer, output.byteOffset, output.length) };
}
