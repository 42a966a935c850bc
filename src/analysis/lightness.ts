// Lightness of a frame as CIELAB's L* (0 black .. 100 white): perceptually even, so a change
// of 10 looks equally large in shadows and highlights, unlike raw pixel values.

/** sRGB byte -> linear-light value in [0, 1] (the sRGB transfer curve undone), for every byte. */
const linearFromByte = Float64Array.from({ length: 256 }, (_, byte) => {
  const value = byte / 255;
  return value <= 0.04045 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4;
});

// Below this relative luminance CIELAB's cube root is replaced by a straight line.
const linearSegmentEnd = (6 / 29) ** 3;
const linearSegmentSlope = (29 / 3) ** 3;

/** L* of a relative luminance Y in [0, 1] (D65 white = 1). */
export function lightnessOfLuminance(luminance: number): number {
  return luminance > linearSegmentEnd ? 116 * Math.cbrt(luminance) - 16 : linearSegmentSlope * luminance;
}

/** L* of one sRGB colour given as bytes. */
export function lightnessOfRgb(red: number, green: number, blue: number): number {
  return lightnessOfLuminance(
    0.2126 * linearFromByte[red] + 0.7152 * linearFromByte[green] + 0.0722 * linearFromByte[blue],
  );
}

export interface FrameLightness {
  /** Mean L* over the frame's pixels. */
  mean: number;
  /** Standard deviation of L* over the pixels: how much light and shade the frame holds. */
  spread: number;
}

/** Mean and spread of L* over an RGB frame (3 bytes a pixel). */
export function frameLightness(rgb: Uint8Array): FrameLightness {
  const pixels = rgb.length / 3;
  let sum = 0;
  let sumOfSquares = 0;
  for (let i = 0; i < rgb.length; i += 3) {
    const lightness = lightnessOfRgb(rgb[i], rgb[i + 1], rgb[i + 2]);
    sum += lightness;
    sumOfSquares += lightness * lightness;
  }
  const mean = sum / pixels;
  return { mean, spread: Math.sqrt(Math.max(0, sumOfSquares / pixels - mean * mean)) };
}
