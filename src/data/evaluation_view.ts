// DINO's evaluation view of an image (eval_knn.py and eval_linear.py's val transform): the short
// side resized to 256/224 of the input size with PIL's bicubic filter (antialiased when it
// shrinks, 8-bit result), then the centre size x size, as torchvision's Resize and CenterCrop
// place them.
import { F, type Tensor } from "../torch/index.ts";

/** Python's round(): halves go to the even neighbour (torchvision's crop offsets use it). */
function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction !== 0.5) return Math.round(value);
  return floor % 2 === 0 ? floor : floor + 1;
}

/** The size torchvision's Resize(side) gives a width x height image: short side `side`, long side truncated. */
export function evaluationResize(
  width: number,
  height: number,
  side: number,
): { width: number; height: number } {
  return width <= height
    ? { width: side, height: Math.floor((side * height) / width) }
    : { width: Math.floor((side * width) / height), height: side };
}

/** [N, C, H, W] in [0, 1] (images of one size) -> their [N, C, size, size] evaluation views in [0, 1]. */
export function evaluationView(images: Tensor, size: number): Tensor {
  const [, , height, width] = images.shape;
  const resized = evaluationResize(width, height, Math.round((size * 256) / 224));
  // PIL resizes an 8-bit image in two passes, across then down, each rounded and clipped to
  // 8 bits (which clips bicubic's overshoot at edges in between): so here too.
  const pass = (input: Tensor, rows: number, cols: number) => {
    using scaled = F.interpolate(input, {
      size: [rows, cols],
      mode: "bicubic",
      alignCorners: false,
      antialias: true,
    });
    return scaled.mul(255).round().clamp(0, 255).div(255);
  };
  using across = pass(images, height, resized.width);
  using down = pass(across, resized.height, resized.width);
  using levels = down.mul(255);
  const top = roundHalfEven((resized.height - size) / 2);
  const left = roundHalfEven((resized.width - size) / 2);
  using crop = levels.narrow(2, top, size).narrow(3, left, size);
  return crop.div(255);
}
