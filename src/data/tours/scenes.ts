// The scenes rendered from a world: the tour itself, and the held-out sequences, which see the
// same photos in another order and other objects, each from its own random stream.
import { shuffled } from "../../util/random.ts";
import { Camera } from "./camera.ts";
import { crossingRange, spawnObject, spawnObjects, type SpawnSettings } from "./objects.ts";
import type { Scene } from "./render.ts";
import { streamRandom, streams } from "./seeds.ts";
import { buildStrip } from "./strip.ts";
import type { World } from "./world.ts";

export interface SceneSize {
  width: number;
  height: number;
  /** Mean objects on screen. */
  density: number;
}

// Seams blend over a fifth of the strip's height: wide enough to hide the cut.
const seamFraction = 0.2;

function spawnSettings(world: World, size: SceneSize): SpawnSettings {
  return { ...size, samples: world.samples, labels: world.labels };
}

/** The tour: `seconds` long, objects already crossing at time 0. */
export function tourScene(world: World, seed: number, size: SceneSize, seconds: number): Scene {
  const random = streamRandom(seed, streams.tour);
  const strip = buildStrip(world.photos, world.stripHeight * seamFraction);
  const camera = new Camera(random, {
    ...size,
    stripHeight: strip.height,
    startX: random.uniform(0, strip.width),
  });
  const objects = spawnObjects(random, spawnSettings(world, size), -crossingRange[1], seconds);
  return { width: size.width, height: size.height, strip, camera, objects, garments: world.garments };
}

/** Held-out sequence `index`: at least one object mid-crossing in its first frame. */
export function heldOutScene(
  world: World,
  seed: number,
  size: SceneSize,
  seconds: number,
  index: number,
): Scene {
  const order = shuffled(world.photos, streamRandom(seed, streams.heldOutStrip));
  const strip = buildStrip(order, world.stripHeight * seamFraction);
  const random = streamRandom(seed, streams.heldOutSequence(index));
  const camera = new Camera(random, {
    ...size,
    stripHeight: strip.height,
    startX: random.uniform(0, strip.width),
  });
  const settings = spawnSettings(world, size);
  const first = random.integer(1, Math.max(1, Math.round(size.density)));
  const objects = [];
  for (let id = 1; id <= first; id++) {
    // Started a quarter to three fifths of its crossing ago: well inside the frame at time 0.
    const object = spawnObject(random, settings, id, 0);
    const shift = (object.end - object.start) * random.uniform(0.25, 0.6);
    objects.push({ ...object, start: object.start - shift, end: object.end - shift });
  }
  objects.push(...spawnObjects(random, settings, 0, seconds, first + 1));
  objects.sort((a, b) => a.start - b.start || a.id - b.id);
  return { width: size.width, height: size.height, strip, camera, objects, garments: world.garments };
}
