// report.html: every run writes it; headless Chromium opens it with no console errors and every
// picture loaded; each curve holds exactly metrics.jsonl's points and last value; an evaluation
// run on the folder shows up in it; `onevideo report` writes it again.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { openServed } from "../helpers/browser.ts";
import { scratchDir } from "../helpers/videos.ts";

const cli = fileURLToPath(new URL("../../bin/onevideo.js", import.meta.url));
const onevideo = (...args: string[]) => {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};

test("a run's report shows its config, every metric as metrics.jsonl has it, its pictures and its evaluations", async () => {
  const run = join(scratchDir(), "run");
  const trained = onevideo(
    ...["pretrain", "--preset", "demo", "--dataset", "fashion-mnist", "--steps", "4", "--log-every", "1"],
    ...["--out", run],
  );
  assert.equal(trained.code, 0, trained.stderr);
  assert.ok(existsSync(join(run, "report.html")), "the run wrote its report");
  const knn = onevideo(
    ...["eval", "knn", "--checkpoint", run, "--dataset", "fashion-mnist"],
    "--train-limit",
    "200",
    "--test-limit",
    "100",
    "--k",
    "5",
  );
  assert.equal(knn.code, 0, knn.stderr);
  const [evaluation] = readFileSync(join(run, "evaluations.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line));
  assert.equal(evaluation.command, "eval knn");
  assert.deepEqual(evaluation.result, JSON.parse(knn.stdout));

  // `onevideo report` writes it again.
  rmSync(join(run, "report.html"));
  const report = onevideo("report", run);
  assert.equal(report.code, 0, report.stderr);
  assert.equal(report.stdout.trim(), join(run, "report.html"));

  const metrics = readFileSync(join(run, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, number>);
  const opened = await openServed(run, "report.html");
  try {
    const { page, errors } = opened;
    await page.waitForLoadState("load");
    const pictures = readdirSync(join(run, "pictures")).length;
    assert.ok(pictures >= 2, "the loss curve and attention pictures");
    assert.equal(await page.getAttribute("body", "data-images-total"), String(pictures));
    await page.waitForFunction(`document.body.dataset.imagesLoaded === "${pictures}"`, null, {
      timeout: 30_000,
    });
    // Every metric the run logged, each with all its points and its last value.
    const figures = await page.$$eval("figure.metric", (elements) =>
      elements.map((element) => [
        element.getAttribute("data-metric"),
        Number(element.getAttribute("data-points")),
        Number(element.getAttribute("data-last")),
      ]),
    );
    const logged = Object.keys(metrics[0]).filter((key) => key !== "step" && key !== "epoch");
    assert.deepEqual(figures.map(([key]) => key).sort(), logged.sort());
    for (const [key, points, last] of figures as [string, number, number][]) {
      assert.equal(points, metrics.length, key);
      assert.equal(last, metrics.at(-1)![key], key);
    }
    assert.equal(
      (await page.locator("figure.metric svg polyline, figure.metric svg path").count()) >= logged.length,
      true,
    );
    const text = (await page.textContent("body"))!;
    assert.match(text, /eval knn/);
    assert.match(
      text,
      new RegExp(`"top1":${(JSON.parse(knn.stdout) as { results: { top1: number }[] }).results[0].top1}`),
    );
    assert.match(text, /vit_tiny/); // the config
    assert.match(text, /libtorch/); // the environment
    assert.deepEqual(errors, []);
  } finally {
    await opened.close();
  }
});
