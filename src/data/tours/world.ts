// What every tour of a seed shares: the photos (picked under the seed, decoded at the strip's
// height) and the Fashion-MNIST training garments the objects are drawn from.
import type { RgbImage } from "../frame_source.ts";
import { loadFashionMnist } from "../fashion_mnist.ts";
import { decodePhoto, listPhotos, pickPhotos } from "./photos.ts";
import { streamRandom, streams } from "./seeds.ts";

export interface World {
  /** The photos' paths, in the order picked. */
  photoPaths: string[];
  photos: RgbImage[];
  stripHeight: number;
  /** Fashion-MNIST's training set: count x 28 x 28 bytes and labels. */
  garments: Uint8Array;
  labels: Uint8Array;
  samples: number;
  classNames: readonly string[];
}

/** The strip is taller than the frame, so the camera can zoom in without running out of rows. */
export function stripHeightFor(frameHeight: number): number {
  return Math.round(frameHeight * 1.5);
}

export function loadWorld(
  seed: number,
  photoCount: number,
  frameHeight: number,
  fashionMnistRoot?: string,
): World {
  const photoPaths = pickPhotos(listPhotos(), photoCount, streamRandom(seed, streams.photos));
  const stripHeight = stripHeightFor(frameHeight);
  const fashion = loadFashionMnist("train", fashionMnistRoot);
  return {
    photoPaths,
    photos: photoPaths.map((path) => decodePhoto(path, stripHeight)),
    stripHeight,
    garments: fashion.images,
    labels: fashion.labels,
    samples: fashion.count,
    classNames: fashion.classNames,
  };
}
