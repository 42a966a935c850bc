// The analysis's pictures, every video on the same axes (DoRA's Figure 2 style): lightness
// over time with each video's shot boundaries, objects per frame, and shot lengths.
import { renameSync } from "node:fs";
import { basename, join } from "node:path";
import type { VideoAnalysis } from "../analysis/analyze_video.ts";
import { shotLengths } from "../analysis/shots.ts";
import { barPlotSvg } from "./bar_plot.ts";
import { linePlotSvg, type Series, svgToPng } from "./line_plot.ts";

export interface AnalysisPlot {
  file: string;
  title: string;
  caption: string;
}

/** Points per plotted line: an hour of frames would make an SVG no one can draw. */
const maxPlottedPoints = 1500;

/** Each video's name for legends and tables (its file name, numbered when two are the same). */
export function videoLabels(analyses: VideoAnalysis[]): string[] {
  const names = analyses.map((analysis) => basename(analysis.video.path));
  return names.map((name, i) =>
    names.filter((other) => other === name).length > 1 ? `${name} (${i + 1})` : name,
  );
}

/** A long series reduced to at most `maxPoints` by averaging runs of consecutive points. */
export function downsample(
  x: number[],
  y: number[],
  maxPoints = maxPlottedPoints,
): { x: number[]; y: number[] } {
  if (x.length <= maxPoints) return { x, y };
  const run = Math.ceil(x.length / maxPoints);
  const out = { x: [] as number[], y: [] as number[] };
  for (let start = 0; start < x.length; start += run) {
    const end = Math.min(x.length, start + run);
    let [sumX, sumY] = [0, 0];
    for (let i = start; i < end; i++) [sumX, sumY] = [sumX + x[i], sumY + y[i]];
    out.x.push(sumX / (end - start));
    out.y.push(sumY / (end - start));
  }
  return out;
}

/** Shot-length bins in seconds: under 1, then doubling (1-2, 2-4, ...) up to the longest shot. */
export function shotLengthBins(longest: number): { edges: number[]; labels: string[] } {
  const edges = [0, 1];
  while (edges.at(-1)! <= longest) edges.push(edges.at(-1)! * 2);
  const labels = edges.slice(0, -1).map((low, i) => (low === 0 ? "<1" : `${low}-${edges[i + 1]}`));
  return { edges, labels };
}

function writePlot(out: string, file: string, svg: string): void {
  const temporary = join(out, `.${file}.tmp-${process.pid}.png`);
  svgToPng(svg, temporary);
  renameSync(temporary, join(out, file));
}

/** Writes lightness.png, objects.png (when any video has object counts) and shot_lengths.png. */
export function writeAnalysisPlots(analyses: VideoAnalysis[], out: string): AnalysisPlot[] {
  const labels = videoLabels(analyses);
  const plots: AnalysisPlot[] = [];

  const lightness: Series[] = analyses.map((analysis, i) => ({
    label: labels[i],
    ...downsample(analysis.series.time, analysis.series.lightness),
    marks: analysis.shots.slice(1).map((shot) => shot.start_time),
  }));
  writePlot(
    out,
    "lightness.png",
    linePlotSvg(lightness, {
      title: "Lightness over time",
      xLabel: "time (s)",
      yLabel: "mean L* (CIELAB)",
      yRange: [0, 100],
      width: 800,
    }),
  );
  plots.push({
    file: "lightness.png",
    title: "Lightness over time",
    caption:
      "Mean L* of each sampled frame (0 black, 100 white); dashed lines, in the video's colour, are its shot boundaries.",
  });

  const withObjects = analyses.flatMap((analysis, i) =>
    analysis.objects
      ? [{ label: labels[i], ...downsample(analysis.objects.time, analysis.objects.count) }]
      : [],
  );
  if (withObjects.length > 0) {
    writePlot(
      out,
      "objects.png",
      linePlotSvg(withObjects, {
        title: "Objects per frame",
        xLabel: "time (s)",
        yLabel: "distinct objects",
        width: 800,
      }),
    );
    plots.push({
      file: "objects.png",
      title: "Objects per frame",
      caption:
        "Distinct objects the encoder's heads discover in each counted frame (one per head, masks overlapping by IoU > 0.5 merged).",
    });
  }

  const lengths = analyses.map((analysis) => shotLengths(analysis.shots));
  const longest = lengths.flat().reduce((high, length) => Math.max(high, length), 0);
  const { edges, labels: binLabels } = shotLengthBins(longest);
  const counts = lengths.map((shotLengthsOfVideo) =>
    binLabels.map(
      (_, b) => shotLengthsOfVideo.filter((length) => length >= edges[b] && length < edges[b + 1]).length,
    ),
  );
  writePlot(
    out,
    "shot_lengths.png",
    barPlotSvg(
      binLabels,
      counts.map((values, i) => ({ label: labels[i], values })),
      { title: "Shot lengths", xLabel: "shot length (s)", yLabel: "shots", width: 800 },
    ),
  );
  plots.push({
    file: "shot_lengths.png",
    title: "Shot lengths",
    caption: "How many shots last how long (bins double in length); one long take is one bar on the right.",
  });
  return plots;
}
