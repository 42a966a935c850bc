// The panorama the camera walks along: photos side by side at one height, each seam a
// linear cross-fade, closed into a ring so a tour of any length never runs off the end.
import type { RgbImage } from "../frame_source.ts";

export interface Strip {
  width: number;
  height: number;
  /** height x width x 3 floats in [0, 255], row-major RGB. */
  data: Float32Array;
}

/** Joins same-height photos; `overlap` columns of each seam blend one photo into the next. */
export function buildStrip(photos: readonly RgbImage[], overlap: number): Strip {
  const height = photos[0].height;
  const widths = photos.map((photo) => photo.width);
  // Photos narrower than two seams would blend into themselves.
  const fade = Math.max(1, Math.min(Math.floor(overlap), ...widths.map((w) => Math.floor(w / 2))));
  const width = widths.reduce((sum, w) => sum + w - fade, 0);
  const data = new Float32Array(width * height * 3);
  let offset = 0;
  for (const photo of photos) {
    if (photo.height !== height)
      throw new Error(`buildStrip: photo height ${photo.height}, expected ${height}`);
    for (let x = 0; x < photo.width; x++) {
      // Ramps up over the first `fade` columns and down over the last: at a seam the two
      // photos' weights sum to 1.
      const weight = Math.min(1, (x + 0.5) / fade, (photo.width - x - 0.5) / fade);
      const column = (offset + x) % width;
      for (let y = 0; y < height; y++) {
        const source = (y * photo.width + x) * 3;
        const target = (y * width + column) * 3;
        data[target] += weight * photo.data[source];
        data[target + 1] += weight * photo.data[source + 1];
        data[target + 2] += weight * photo.data[source + 2];
      }
    }
    offset += photo.width - fade;
  }
  return { width, height, data };
}
