// Cuts between shots, from the content change between consecutive sampled frames. A cut is
// a change that is both large in itself (an absolute floor: a walking camera or a hand in
// front of the lens changes a frame by a few hundredths, a cut to another scene by more than
// a tenth) and large against the changes around it (an adaptive threshold: during a fade or a
// fast pan every frame changes a lot, so no single one stands out). A minimum shot length
// stops one transition from being cut several times.

export interface CutDetection {
  /** Content change a cut needs at least (0..1, see content_change.ts). */
  minimumChange: number;
  /** How many times the mean change of its neighbours a cut's change must be. */
  ratioToNeighbours: number;
  /** Sampled frames on each side whose changes set the local level. */
  neighbours: number;
  /** Sampled frames a shot lasts at least; a candidate cut sooner after the last one is ignored. */
  minimumShotSamples: number;
}

export const defaultCutDetection: Omit<CutDetection, "minimumShotSamples"> = {
  minimumChange: 0.08,
  ratioToNeighbours: 3,
  neighbours: 2,
};

/**
 * Sampled-frame indices where a new shot starts (never 0), given `changes[i]`, the content
 * change from sample i - 1 to sample i (`changes[0]` is unused).
 */
export function detectCuts(changes: ArrayLike<number>, options: CutDetection): number[] {
  const cuts: number[] = [];
  let shotStart = 0;
  for (let i = 1; i < changes.length; i++) {
    const change = changes[i];
    if (change < options.minimumChange || i - shotStart < options.minimumShotSamples) continue;
    let sum = 0;
    let count = 0;
    const [from, to] = [
      Math.max(1, i - options.neighbours),
      Math.min(changes.length - 1, i + options.neighbours),
    ];
    for (let j = from; j <= to; j++) {
      if (j === i) continue;
      sum += changes[j];
      count++;
    }
    const localLevel = count > 0 ? sum / count : 0;
    if (change >= options.ratioToNeighbours * localLevel) {
      cuts.push(i);
      shotStart = i;
    }
  }
  return cuts;
}
