// The walking camera: steady forward motion along the strip with a slowly varying pace, slow
// pans, tilts and zooms, and a slow drift of the light's brightness and colour. Every part is a
// smooth curve of time, so consecutive frames differ a little and there are no cuts.
import type { Random } from "../../util/random.ts";
import { SmoothCurve } from "./smooth.ts";

export interface CameraView {
  /** The view's centre in strip pixels (x grows along the walk, unwrapped). */
  x: number;
  y: number;
  /** Strip pixels per output pixel. */
  scale: number;
  /** Per-channel light gain. */
  gain: [number, number, number];
}

export interface CameraSettings {
  stripHeight: number;
  /** Output frame size. */
  width: number;
  height: number;
  /** Where the walk starts, in strip pixels. */
  startX: number;
}

// Pace and ranges, in strip heights and seconds: about a strip height every 12 s, so a photo
// scrolls past in 15-20 s; the view spans 55-90 % of the strip's height.
const walkSpeed = 0.08;
const paceVariation = 0.4;
const panAmplitude = 0.25;
const zoomRange: [number, number] = [0.55, 0.9];
const brightnessRange = 0.25;
const colourRange = 0.08;

export class Camera {
  private readonly pace: SmoothCurve;
  private readonly pan: SmoothCurve;
  private readonly tilt: SmoothCurve;
  private readonly zoom: SmoothCurve;
  private readonly brightness: SmoothCurve;
  private readonly colour: SmoothCurve[];

  constructor(
    random: Random,
    readonly settings: CameraSettings,
  ) {
    this.pace = new SmoothCurve(random, 20, 90);
    this.pan = new SmoothCurve(random, 30, 120);
    this.tilt = new SmoothCurve(random, 25, 100);
    this.zoom = new SmoothCurve(random, 30, 150);
    this.brightness = new SmoothCurve(random, 40, 240);
    this.colour = [0, 1, 2].map(() => new SmoothCurve(random, 60, 300));
  }

  at(t: number): CameraView {
    const { stripHeight, width, height, startX } = this.settings;
    const zoomMid = (zoomRange[0] + zoomRange[1]) / 2;
    const zoomHalf = (zoomRange[1] - zoomRange[0]) / 2;
    const viewHeight = stripHeight * (zoomMid + zoomHalf * this.zoom.value(t));
    const viewWidth = (viewHeight * width) / height;
    // Distance walked: the pace's integral, never negative as the pace stays above 60 %.
    const walked = walkSpeed * stripHeight * (t + paceVariation * this.pace.integral(t));
    const light = Math.exp(brightnessRange * this.brightness.value(t));
    return {
      x: startX + walked + panAmplitude * viewWidth * this.pan.value(t),
      y: stripHeight / 2 + ((stripHeight - viewHeight) / 2) * this.tilt.value(t),
      scale: viewHeight / height,
      gain: [0, 1, 2].map((c) => light * Math.exp(colourRange * this.colour[c].value(t))) as [
        number,
        number,
        number,
      ],
    };
  }
}
