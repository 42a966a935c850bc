// Line plots as SVG (for reports) and PNG (rasterised by ffmpeg's librsvg).
import { execFileSync } from "node:child_process";
import { renameSync, rmSync, writeFileSync } from "node:fs";

export interface Series {
  label: string;
  x: number[];
  y: number[];
  color?: string;
  /** x positions marked by dashed vertical lines in the series' colour (e.g. its shot boundaries). */
  marks?: number[];
}

const palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"];

function niceTicks(min: number, max: number, count = 5): number[] {
  const span = max - min || 1;
  const step = 10 ** Math.floor(Math.log10(span / count));
  const factor = [1, 2, 5, 10].find((f) => span / (f * step) <= count) ?? 10;
  const unit = factor * step;
  const ticks: number[] = [];
  for (let t = Math.ceil(min / unit) * unit; t <= max + 1e-12; t += unit) ticks.push(+t.toPrecision(12));
  return ticks;
}

const label = (value: number) =>
  Math.abs(value) >= 1e4 || (value !== 0 && Math.abs(value) < 1e-3)
    ? value.toExponential(1)
    : String(+value.toPrecision(4));
const escape = (text: string) => text.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);

export function linePlotSvg(
  series: Series[],
  options: {
    title: string;
    xLabel: string;
    yLabel: string;
    width?: number;
    height?: number;
    verticalLines?: number[];
    /** A fixed y range (e.g. 0..100 for L*) instead of the data's, so plots compare. */
    yRange?: [number, number];
  },
): string {
  const width = options.width ?? 640;
  const height = options.height ?? 360;
  const margin = { left: 64, right: 16, top: 32, bottom: 44 };
  const xs = series.flatMap((s) => s.x);
  const ys = series.flatMap((s) => s.y).filter(Number.isFinite);
  const [xMin, xMax] = [Math.min(...xs), Math.max(...xs)];
  let [yMin, yMax] = options.yRange ?? [Math.min(...ys), Math.max(...ys)];
  if (yMin === yMax) [yMin, yMax] = [yMin - 1, yMax + 1];
  const px = (x: number) =>
    margin.left + ((x - xMin) / (xMax - xMin || 1)) * (width - margin.left - margin.right);
  const py = (y: number) =>
    height - margin.bottom - ((y - yMin) / (yMax - yMin)) * (height - margin.top - margin.bottom);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${escape(options.title)}</text>`,
  ];
  for (const tick of niceTicks(yMin, yMax)) {
    parts.push(
      `<line x1="${margin.left}" x2="${width - margin.right}" y1="${py(tick)}" y2="${py(tick)}" stroke="#e5e5e5"/>`,
    );
    parts.push(`<text x="${margin.left - 6}" y="${py(tick) + 4}" text-anchor="end">${label(tick)}</text>`);
  }
  for (const tick of niceTicks(xMin, xMax)) {
    parts.push(
      `<text x="${px(tick)}" y="${height - margin.bottom + 16}" text-anchor="middle">${label(tick)}</text>`,
    );
  }
  for (const x of options.verticalLines ?? []) {
    parts.push(
      `<line x1="${px(x)}" x2="${px(x)}" y1="${margin.top}" y2="${height - margin.bottom}" stroke="#d62728" stroke-dasharray="3,3"/>`,
    );
  }
  parts.push(
    `<line x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${height - margin.bottom}" stroke="black"/>`,
    `<line x1="${margin.left}" x2="${width - margin.right}" y1="${height - margin.bottom}" y2="${height - margin.bottom}" stroke="black"/>`,
    `<text x="${width / 2}" y="${height - 8}" text-anchor="middle">${escape(options.xLabel)}</text>`,
    `<text x="16" y="${height / 2}" text-anchor="middle" transform="rotate(-90 16 ${height / 2})">${escape(options.yLabel)}</text>`,
  );
  series.forEach((s, index) => {
    const color = s.color ?? palette[index % palette.length];
    for (const x of s.marks ?? []) {
      parts.push(
        `<line x1="${px(x)}" x2="${px(x)}" y1="${margin.top}" y2="${height - margin.bottom}" stroke="${color}" stroke-opacity="0.6" stroke-dasharray="4,3"/>`,
      );
    }
    const points = s.x.map((x, i) => `${px(x).toFixed(1)},${py(s.y[i]).toFixed(1)}`).join(" ");
    parts.push(`<polyline points="${points}" fill="none" stroke="${color}" stroke-width="1.5"/>`);
    if (series.length > 1) {
      parts.push(
        `<text x="${width - margin.right - 4}" y="${margin.top + 14 * (index + 1)}" text-anchor="end" fill="${color}">${escape(s.label)}</text>`,
      );
    }
  });
  parts.push("</svg>");
  return parts.join("\n");
}

/**
 * Rasterises an SVG to PNG with ffmpeg (librsvg). Where there is no ffmpeg (a GPU server
 * that only trains), the SVG itself is kept beside, so a finished run never fails on a
 * picture; returns the file written.
 */
export function svgToPng(svg: string, pngPath: string): string {
  const svgPath = `${pngPath}.tmp-${process.pid}.svg`;
  writeFileSync(svgPath, svg);
  try {
    execFileSync("ffmpeg", ["-v", "error", "-y", "-i", svgPath, pngPath]);
    return pngPath;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    const kept = pngPath.replace(/\.png$/, ".svg");
    renameSync(svgPath, kept);
    process.stderr.write(`onevideo: ffmpeg not found, so ${kept} is an SVG (install ffmpeg for PNG)\n`);
    return kept;
  } finally {
    rmSync(svgPath, { force: true });
  }
}
