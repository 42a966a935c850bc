// How much a frame's content differs from the previous one: the distance between their
// colour histograms (luma and the two chroma channels). Histograms ignore where things are,
// so a walking camera changes them little while a cut to another scene changes them a lot.
// Each pixel is split between its two nearest bins in proportion to its distance to them,
// so a slow fade moves the histogram smoothly instead of in jumps at bin edges.

const lumaBins = 32;
const chromaBins = 16;
const channelBins = [lumaBins, chromaBins, chromaBins];

/** Luma, blue-difference and red-difference chroma (BT.601 weights), histogrammed separately. */
export type ColourHistogram = [Float64Array, Float64Array, Float64Array];

function addSoftly(histogram: Float64Array, value: number): void {
  // Bin centres sit at (b + 0.5) * 256 / bins; values beyond the outer centres go to the outer bin.
  const position = Math.min(histogram.length - 1, Math.max(0, (value * histogram.length) / 256 - 0.5));
  const low = Math.floor(position);
  const share = position - low;
  histogram[low] += 1 - share;
  if (share > 0) histogram[low + 1] += share;
}

/** The frame's colour histogram, each channel normalised to sum 1. */
export function colourHistogram(rgb: Uint8Array): ColourHistogram {
  const histogram = channelBins.map((bins) => new Float64Array(bins)) as ColourHistogram;
  const [luma, blueDifference, redDifference] = histogram;
  for (let i = 0; i < rgb.length; i += 3) {
    const [red, green, blue] = [rgb[i], rgb[i + 1], rgb[i + 2]];
    addSoftly(luma, 0.299 * red + 0.587 * green + 0.114 * blue);
    addSoftly(blueDifference, 128 - 0.168736 * red - 0.331264 * green + 0.5 * blue);
    addSoftly(redDifference, 128 + 0.5 * red - 0.418688 * green - 0.081312 * blue);
  }
  const pixels = rgb.length / 3;
  for (const channel of histogram) for (let b = 0; b < channel.length; b++) channel[b] /= pixels;
  return histogram;
}

/**
 * Content change between two frames' histograms, in [0, 1]: per channel the share of pixels
 * that would have to move to another bin (half the L1 distance), luma weighted as much as
 * both chroma channels together because cuts between scenes of similar hue still differ in light.
 */
export function contentChange(previous: ColourHistogram, current: ColourHistogram): number {
  const weights = [0.5, 0.25, 0.25];
  let change = 0;
  for (let c = 0; c < 3; c++) {
    let distance = 0;
    for (let b = 0; b < previous[c].length; b++) distance += Math.abs(previous[c][b] - current[c][b]);
    change += (weights[c] * distance) / 2;
  }
  return change;
}
