// When several discovered masks are one object: heads often land on the same thing, so masks
// that overlap by IoU > 0.5 are one object, also through a chain (A ~ B and B ~ C make one
// object even when A and C overlap less). An empty mask is no object.

/** Masks overlapping by more than this are the same object. */
export const sameObjectIou = 0.5;

export function intersectionOverUnion(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let intersection = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    const [inA, inB] = [a[i] > 0, b[i] > 0];
    if (inA && inB) intersection++;
    if (inA || inB) union++;
  }
  return union === 0 ? 0 : intersection / union;
}

/** The number of distinct objects among binary masks of equal length. */
export function distinctObjectCount(masks: ArrayLike<number>[]): number {
  const objects = masks.filter((mask) => Array.prototype.some.call(mask, (value: number) => value > 0));
  // Union-find over the masks: linked masks end up with one root.
  const parent = objects.map((_, i) => i);
  const root = (i: number): number => (parent[i] === i ? i : (parent[i] = root(parent[i])));
  for (let i = 0; i < objects.length; i++) {
    for (let j = i + 1; j < objects.length; j++) {
      if (intersectionOverUnion(objects[i], objects[j]) > sameObjectIou) parent[root(j)] = root(i);
    }
  }
  return new Set(objects.map((_, i) => root(i))).size;
}
