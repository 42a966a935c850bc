// The moving objects: Fashion-MNIST training garments, each with a class label, a size, a
// tint and a depth, crossing the frame on its own straight path (in from one side, out of
// another) with a slight bob. They arrive as a Poisson stream at a rate that keeps about
// `density` of them on screen on average.
import type { Random } from "../../util/random.ts";

export interface TourObject {
  /** 1-based, in order of arrival. */
  id: number;
  /** Index into Fashion-MNIST's training set, and its class. */
  sample: number;
  label: number;
  /** Side length in output pixels. */
  size: number;
  /** RGB colour in [0, 1]. */
  tint: [number, number, number];
  /** Larger is nearer: drawn later, in front. */
  depth: number;
  /** Seconds: on screen from start to end. */
  start: number;
  end: number;
  /** Top-left corner at start and at end, output pixels. */
  from: [number, number];
  to: [number, number];
  bobAmplitude: number;
  bobOmega: number;
  bobPhase: number;
}

export interface SpawnSettings {
  width: number;
  height: number;
  /** Mean objects on screen. */
  density: number;
  /** Training samples to draw garments from. */
  samples: number;
  labels: Uint8Array;
}

// Crossing times in seconds: slower than the camera's pace would make them look stuck.
export const crossingRange: [number, number] = [4, 12];
const meanCrossing = (crossingRange[0] + crossingRange[1]) / 2;

/** A saturated colour: a random hue at full value, so garments stand out from the photos. */
function randomTint(random: Random): [number, number, number] {
  const hue = random.uniform(0, 6);
  const saturation = random.uniform(0.55, 1);
  const f = hue - Math.floor(hue);
  const [p, q, u] = [1 - saturation, 1 - saturation * f, 1 - saturation * (1 - f)];
  const sectors: [number, number, number][] = [
    [1, u, p],
    [q, 1, p],
    [p, 1, u],
    [p, q, 1],
    [u, p, 1],
    [1, p, q],
  ];
  return sectors[Math.floor(hue) % 6];
}

/** One object, on screen from `start`; its path runs from outside one side to outside the opposite. */
export function spawnObject(random: Random, settings: SpawnSettings, id: number, start: number): TourObject {
  const { width, height } = settings;
  const size = Math.round(height * random.uniform(0.25, 0.5));
  const sample = random.integer(0, settings.samples - 1);
  // Mostly sideways, like people walking past; sometimes up or down.
  const horizontal = random.chance(0.75);
  const forward = random.chance(0.5);
  const along = (span: number) => random.uniform(-size * 0.25, span - size * 0.75);
  let from: [number, number];
  let to: [number, number];
  if (horizontal) {
    const [left, right] = [-size, width];
    from = [forward ? left : right, along(height)];
    to = [forward ? right : left, along(height)];
  } else {
    const [top, bottom] = [-size, height];
    from = [along(width), forward ? top : bottom];
    to = [along(width), forward ? bottom : top];
  }
  const duration = random.uniform(crossingRange[0], crossingRange[1]);
  return {
    id,
    sample,
    label: settings.labels[sample],
    size,
    tint: randomTint(random),
    depth: random.next(),
    start,
    end: start + duration,
    from,
    to,
    bobAmplitude: size * random.uniform(0.02, 0.08),
    bobOmega: 2 * Math.PI * random.uniform(0.5, 1.5),
    bobPhase: random.uniform(0, 2 * Math.PI),
  };
}

/** Objects arriving over [from, until) seconds, in order of arrival, ids from firstId. */
export function spawnObjects(
  random: Random,
  settings: SpawnSettings,
  from: number,
  until: number,
  firstId = 1,
): TourObject[] {
  const objects: TourObject[] = [];
  if (settings.density <= 0) return objects;
  const rate = settings.density / meanCrossing;
  for (let t = from - Math.log(1 - random.next()) / rate; t < until; t -= Math.log(1 - random.next()) / rate)
    objects.push(spawnObject(random, settings, firstId + objects.length, t));
  return objects;
}

/** The object's top-left corner at time t: along its path, bobbing across it. */
export function objectPosition(object: TourObject, t: number): [number, number] {
  const progress = (t - object.start) / (object.end - object.start);
  const dx = object.to[0] - object.from[0];
  const dy = object.to[1] - object.from[1];
  const length = Math.hypot(dx, dy) || 1;
  const bob = object.bobAmplitude * Math.sin(object.bobOmega * (t - object.start) + object.bobPhase);
  return [
    object.from[0] + progress * dx - (bob * dy) / length,
    object.from[1] + progress * dy + (bob * dx) / length,
  ];
}
