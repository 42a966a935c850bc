// Independent random streams from one --seed: the tour and each held-out sequence draw
// from their own stream, so adding sequences never changes the tour's frames.
import { Random } from "../../util/random.ts";

/** A well-mixed 32-bit seed for stream `stream` of `seed` (murmur3's finaliser over both). */
export function deriveSeed(seed: number, stream: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul((stream + 1) >>> 0, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export function streamRandom(seed: number, stream: number): Random {
  return new Random(deriveSeed(seed, stream));
}

/** Stream numbers: the world's photos, the tour, the held-out strip, held-out sequence i. */
export const streams = {
  photos: 0,
  tour: 1,
  heldOutStrip: 2,
  heldOutSequence: (index: number) => 100 + index,
};
