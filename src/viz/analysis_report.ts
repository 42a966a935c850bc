// The analysis as one HTML page that opens offline: a table of each video's summary side by
// side, the plots (PNG files next to the page), and each video's shots. A small script marks
// on <body> how many plots loaded, so a headless browser can check the page is whole.
import type { VideoAnalysis } from "../analysis/analyze_video.ts";
import type { AnalysisPlot } from "./analysis_plots.ts";
import { videoLabels } from "./analysis_plots.ts";
import { imagesLoadedScript } from "./images_loaded.ts";

const escape = (text: string) => text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

function summaryRows(analyses: VideoAnalysis[]): [string, string[]][] {
  const each = (value: (analysis: VideoAnalysis) => string | number) =>
    analyses.map((analysis) => String(value(analysis)));
  return [
    ["duration (s)", each((a) => a.summary.duration_s)],
    ["resolution", each((a) => `${a.summary.width}x${a.summary.height}`)],
    ["frames per second", each((a) => a.summary.fps)],
    ["frames (sampled)", each((a) => `${a.summary.frames} (${a.summary.sampled_frames})`)],
    ["shots", each((a) => a.summary.shot_count)],
    ["shots per minute", each((a) => a.summary.shots_per_minute)],
    ["mean shot length (s)", each((a) => a.summary.mean_shot_s)],
    ["lightness L* min - max", each((a) => `${a.summary.lightness.min} - ${a.summary.lightness.max}`)],
    ["lightness L* mean", each((a) => a.summary.lightness.mean)],
    ["lightness trend (L* per minute)", each((a) => a.summary.lightness.trend_per_minute)],
    ["lightness spread within frames (L*)", each((a) => a.summary.mean_lightness_spread)],
    [
      "objects per frame (mean, min - max)",
      each((a) =>
        a.summary.objects
          ? `${a.summary.objects.mean} (${a.summary.objects.min} - ${a.summary.objects.max})`
          : "not counted",
      ),
    ],
  ];
}

function shotList(analysis: VideoAnalysis, label: string): string {
  const rows = analysis.shots
    .map(
      (shot, i) =>
        `<tr><td>${i + 1}</td><td>${shot.start_frame}</td><td>${shot.end_frame}</td><td>${shot.start_time}</td><td>${shot.end_time}</td></tr>`,
    )
    .join("\n");
  return `<details><summary>${escape(label)}: ${analysis.shots.length} shot(s)</summary>
<table><thead><tr><th>shot</th><th>first frame</th><th>last frame</th><th>start (s)</th><th>end (s)</th></tr></thead>
<tbody>
${rows}
</tbody></table></details>`;
}

export function analysisReportHtml(analyses: VideoAnalysis[], plots: AnalysisPlot[]): string {
  const labels = videoLabels(analyses);
  const header = labels.map((label) => `<th>${escape(label)}</th>`).join("");
  const table = summaryRows(analyses)
    .map(
      ([name, values]) =>
        `<tr><th>${escape(name)}</th>${values.map((v) => `<td>${escape(v)}</td>`).join("")}</tr>`,
    )
    .join("\n");
  const figures = plots
    .map(
      (plot) =>
        `<figure><img src="${escape(plot.file)}" alt="${escape(plot.title)}"><figcaption>${escape(plot.caption)}</figcaption></figure>`,
    )
    .join("\n");
  // One line per distinct note: when no video has objects counted, the reason is the same for all.
  const notes = [...new Set(analyses.flatMap((analysis) => analysis.objects_note ?? []))]
    .map((note) => `<p class="note">${escape(note)}</p>`)
    .join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>onevideo analysis: ${escape(labels.join(", "))}</title>
<style>
body { font-family: sans-serif; margin: 2em auto; max-width: 900px; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; }
tr > th:first-child { text-align: left; font-weight: normal; }
figure { margin: 1.5em 0; }
img { max-width: 100%; border: 1px solid #eee; }
.note { color: #8a5a00; }
</style>
</head>
<body data-images-loaded="0" data-images-total="${plots.length}">
<h1>Footage analysis</h1>
<p>Lightness is CIELAB's L* (0 black, 100 white). Shots are cut where the colour histogram changes
far more than around it; times are seconds from the start. Made by <code>onevideo analyze</code>;
the numbers behind every plot are in <code>analysis.json</code>.</p>
<table>
<thead><tr><th></th>${header}</tr></thead>
<tbody>
${table}
</tbody>
</table>
${notes}
${figures}
<h2>Shots</h2>
${analyses.map((analysis, i) => shotList(analysis, labels[i])).join("\n")}
${imagesLoadedScript}
</body>
</html>
`;
}
