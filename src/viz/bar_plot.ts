// Grouped bar charts as SVG: one group of bars per category, one bar per series in the
// series' colour, so several videos' histograms share one set of axes.

export interface BarSeries {
  label: string;
  /** One value per category. */
  values: number[];
  color?: string;
}

const palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"];
const escape = (text: string) => text.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** Whole-number ticks from 0 to at least `max`, about five of them. */
function countTicks(max: number): number[] {
  const step = Math.max(1, Math.ceil(max / 5));
  return Array.from({ length: Math.ceil(max / step) + 1 }, (_, i) => i * step);
}

export function barPlotSvg(
  categories: string[],
  series: BarSeries[],
  options: { title: string; xLabel: string; yLabel: string; width?: number; height?: number },
): string {
  const width = options.width ?? 640;
  const height = options.height ?? 360;
  const margin = { left: 64, right: 16, top: 32, bottom: 44 };
  const ticks = countTicks(Math.max(1, ...series.flatMap((s) => s.values)));
  const yMax = ticks.at(-1)!;
  const plotWidth = width - margin.left - margin.right;
  const groupWidth = plotWidth / Math.max(1, categories.length);
  const barWidth = (groupWidth * 0.8) / Math.max(1, series.length);
  const py = (y: number) => height - margin.bottom - (y / yMax) * (height - margin.top - margin.bottom);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${escape(options.title)}</text>`,
  ];
  for (const tick of ticks) {
    parts.push(
      `<line x1="${margin.left}" x2="${width - margin.right}" y1="${py(tick)}" y2="${py(tick)}" stroke="#e5e5e5"/>`,
      `<text x="${margin.left - 6}" y="${py(tick) + 4}" text-anchor="end">${tick}</text>`,
    );
  }
  categories.forEach((category, c) => {
    const groupLeft = margin.left + c * groupWidth + groupWidth * 0.1;
    series.forEach((s, index) => {
      const value = s.values[c] ?? 0;
      const color = s.color ?? palette[index % palette.length];
      const x = groupLeft + index * barWidth;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${py(value).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${(py(0) - py(value)).toFixed(1)}" fill="${color}"/>`,
      );
    });
    parts.push(
      `<text x="${(margin.left + (c + 0.5) * groupWidth).toFixed(1)}" y="${height - margin.bottom + 16}" text-anchor="middle">${escape(category)}</text>`,
    );
  });
  parts.push(
    `<line x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${height - margin.bottom}" stroke="black"/>`,
    `<line x1="${margin.left}" x2="${width - margin.right}" y1="${height - margin.bottom}" y2="${height - margin.bottom}" stroke="black"/>`,
    `<text x="${width / 2}" y="${height - 8}" text-anchor="middle">${escape(options.xLabel)}</text>`,
    `<text x="16" y="${height / 2}" text-anchor="middle" transform="rotate(-90 16 ${height / 2})">${escape(options.yLabel)}</text>`,
  );
  if (series.length > 1) {
    series.forEach((s, index) => {
      const color = s.color ?? palette[index % palette.length];
      parts.push(
        `<text x="${width - margin.right - 4}" y="${margin.top + 14 * (index + 1)}" text-anchor="end" fill="${color}">${escape(s.label)}</text>`,
      );
    });
  }
  parts.push("</svg>");
  return parts.join("\n");
}
