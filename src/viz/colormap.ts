// Perceptually ordered colours for heat maps (viridis, sampled at nine stops).
const stops: [number, number, number][] = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
];

/** The colour of a value in [0, 1]. */
export function viridis(value: number): [number, number, number] {
  const position = Math.min(1, Math.max(0, value)) * (stops.length - 1);
  const low = Math.floor(position);
  const high = Math.min(stops.length - 1, low + 1);
  const t = position - low;
  return [0, 1, 2].map((c) => Math.round(stops[low][c] * (1 - t) + stops[high][c] * t)) as [
    number,
    number,
    number,
  ];
}
