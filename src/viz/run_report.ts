// A run's report: report.html in its folder, one page that opens offline with nothing beside
// it but the run's own pictures: the config, each start's environment (versions, device,
// processes), every logged metric as a curve over the steps (inline SVG; the epochs in its
// caption), the pictures, and the results of every evaluation run on the folder. Each curve
// carries its point count and last value, and a small script marks on <body> how many
// pictures loaded, so that a headless browser can check the page against metrics.jsonl.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { RunFolder } from "../train/run_folder.ts";
import { writeFileAtomically } from "../util/atomic_file.ts";
import { linePlotSvg } from "./line_plot.ts";
import { imagesLoadedScript } from "./images_loaded.ts";

const escape = (text: string) => text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
const cell = (value: unknown) => escape(typeof value === "string" ? value : JSON.stringify(value));

/** What each logged metric is, for the captions. */
const metricNames: Record<string, string> = {
  loss: "training loss",
  lr: "learning rate",
  weight_decay: "weight decay",
  teacher_momentum: "teacher EMA momentum",
  teacher_temperature: "teacher temperature",
  teacher_entropy: "teacher entropy (collapse: near 0 or near log K)",
  teacher_kl_uniform: "teacher KL to uniform (collapse: near 0)",
  mask_area: "DoRA mask area",
  pair_accuracy: "VADeR pair accuracy",
  images_per_s: "throughput (images/s, all processes)",
  peak_rss_mb: "peak RSS (MB)",
  peak_gpu_mb: "peak GPU memory (MB)",
  data_ms: "data time (ms)",
  step_ms: "step time (ms)",
  loss_scale: "fp16 loss scale",
};

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
}

function readJsonLines(path: string): Record<string, unknown>[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return []; // a line cut by a killed write
      }
    });
}

function table(rows: [string, unknown][]): string {
  return `<table><tbody>\n${rows.map(([key, value]) => `<tr><th>${escape(key)}</th><td>${cell(value)}</td></tr>`).join("\n")}\n</tbody></table>`;
}

function metricFigures(records: Record<string, number>[]): string {
  const keys = [...new Set(records.flatMap((record) => Object.keys(record)))].filter(
    (key) => key !== "step" && key !== "epoch",
  );
  return keys
    .map((key) => {
      const points = records.filter((record) => Number.isFinite(record[key]));
      if (points.length === 0) return "";
      const first = points[0];
      const final = points[points.length - 1];
      const epochRange = Number.isFinite(final.epoch) ? ` (epochs ${first.epoch} to ${final.epoch})` : "";
      const svg = linePlotSvg([{ label: key, x: points.map((p) => p.step), y: points.map((p) => p[key]) }], {
        title: metricNames[key] ?? key,
        xLabel: `step${epochRange}`,
        yLabel: key,
        width: 520,
        height: 280,
      });
      const last = points[points.length - 1];
      const epochs = Number.isFinite(last.epoch) ? `, epochs ${points[0].epoch} to ${last.epoch}` : "";
      return `<figure class="metric" data-metric="${escape(key)}" data-points="${points.length}" data-last="${last[key]}">
${svg}
<figcaption>${escape(key)}: ${points.length} points, steps ${points[0].step} to ${last.step}${epochs}; last ${last[key]}</figcaption>
</figure>`;
    })
    .join("\n");
}

function pictureFigures(run: RunFolder): string[] {
  if (!existsSync(run.picturesDir)) return [];
  return readdirSync(run.picturesDir)
    .filter((file) => /\.(png|svg)$/.test(file))
    .sort((a, b) => a.localeCompare(b, "en", { numeric: true }))
    .map((file) => {
      const step = /-(\d+)\.png$/.exec(file)?.[1];
      const caption = step ? `${file.replace(/-\d+\.png$/, "")} at step ${step}` : file;
      return `<figure><img src="pictures/${escape(file)}" alt="${escape(caption)}"><figcaption>${escape(caption)}</figcaption></figure>`;
    });
}

function evaluationSection(evaluations: Record<string, unknown>[]): string {
  if (evaluations.length === 0)
    return "<p>None yet: an <code>onevideo eval</code> command given this folder adds its result here.</p>";
  return evaluations
    .map((entry) => {
      const result = (entry.result ?? {}) as Record<string, unknown>;
      return `<h3>${escape(String(entry.command))} <small>${escape(String(entry.at ?? ""))}</small></h3>\n${table(Object.entries(result))}`;
    })
    .join("\n");
}

export function runReportHtml(run: RunFolder): string {
  const config = (run.readConfig() ?? {}) as Record<string, unknown>;
  const environment = run.readEnvironment() as Record<string, unknown>[];
  const summary = readJson(run.summaryPath) as Record<string, unknown> | undefined;
  const records = run.readMetrics();
  const pictures = pictureFigures(run);
  const evaluations = readJsonLines(run.evaluationsPath);
  const worldSize = Number(environment.at(-1)?.worldSize ?? 1);
  const throughput = records.filter((record) => Number.isFinite(record.images_per_s)).at(-1)?.images_per_s;
  const parallel =
    worldSize > 1 && throughput !== undefined
      ? `<p>${worldSize} processes: ${throughput} images/s in all, ${+(throughput / worldSize).toFixed(2)} per process.</p>`
      : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<title>onevideo run: ${escape(run.path)}</title>
<style>
body { font-family: sans-serif; margin: 2em auto; padding: 0 1em; max-width: 1100px; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: left; vertical-align: top; }
th { font-weight: normal; color: #555; }
.metrics { display: flex; flex-wrap: wrap; gap: 12px; }
figure { margin: 0.5em 0; }
.metrics figure { width: 520px; }
img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.85em; color: #444; }
details { margin: 0.5em 0; }
</style>
</head>
<body data-images-loaded="0" data-images-total="${pictures.length}">
<h1>${escape(String(config.method ?? "onevideo"))} run</h1>
<p><code>${escape(run.path)}</code>: ${records.length} logged steps${summary ? `, ${cell(summary.steps)} steps trained` : ", not finished"}.
Made by onevideo; the numbers behind every curve are in <code>metrics.jsonl</code>.</p>
${parallel}
<h2>Summary</h2>
${summary ? table(Object.entries(summary)) : "<p>The run has not finished (no summary.json).</p>"}
<h2>Metrics</h2>
<div class="metrics">
${metricFigures(records)}
</div>
<h2>Pictures</h2>
${pictures.length > 0 ? pictures.join("\n") : "<p>None yet: a finished run draws them.</p>"}
<h2>Evaluations</h2>
${evaluationSection(evaluations)}
<h2>Config</h2>
<details open><summary>${Object.keys(config).length} options (config.json)</summary>
${table(Object.entries(config))}
</details>
<h2>Environment</h2>
${environment.map((entry, i) => `<details${i === environment.length - 1 ? " open" : ""}><summary>start ${i + 1}, from step ${cell(entry.startStep)}</summary>\n${table(Object.entries(entry))}\n</details>`).join("\n")}
${imagesLoadedScript}
</body>
</html>
`;
}

/**
 * An evaluation's result, kept in the run folder it was run on (and its report rewritten);
 * nothing when the checkpoint is a weights file rather than a run.
 */
export function recordEvaluation(checkpoint: string, command: string, result: object): void {
  const run = new RunFolder(resolve(checkpoint));
  if (!existsSync(run.path) || !statSync(run.path).isDirectory() || !run.holdsRun()) return;
  run.appendEvaluation({ command, at: new Date().toISOString(), result });
  writeRunReport(run);
}

/** Writes report.html into the run folder; returns its path. */
export function writeRunReport(run: RunFolder): string {
  const path = join(run.path, "report.html");
  writeFileAtomically(path, runReportHtml(run));
  return path;
}
