// A small seeded generator for data order and augmentation parameters, whose whole
// state is one integer, so a checkpoint can save it and a resumed run repeat it.

export class Random {
  /** The generator's state; assign a saved value to resume the same sequence. */
  state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** mulberry32: a uniform float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** An integer in [low, high] inclusive. */
  integer(low: number, high: number): number {
    return low + Math.floor(this.next() * (high - low + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }
}

/** A Fisher-Yates shuffle of a copy. */
export function shuffled<T>(items: readonly T[], random: Random): T[] {
  const result = [...items];
  for (let i = result.length - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1));
    [result[i], result[j]] = [result[j], result[i]];
  }
  return result;
}

/** The order in which an epoch visits samples 0..count-1: a permutation fixed by (seed, epoch). */
export function epochOrder(count: number, seed: number, epoch: number): number[] {
  const random = new Random((seed * 0x9e3779b1 + epoch * 0x85ebca6b) >>> 0);
  return shuffled(
    Array.from({ length: count }, (_, i) => i),
    random,
  );
}
