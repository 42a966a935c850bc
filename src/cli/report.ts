// onevideo report <run>: writes the run's report.html again (a run writes it when it ends).
import { resolve } from "node:path";
import { InputError, UsageError } from "../errors.ts";
import { jsonOption } from "../options.ts";
import { RunFolder } from "../train/run_folder.ts";
import { writeRunReport } from "../viz/run_report.ts";
import { defineCommand, printResult } from "./command.ts";

export const command = defineCommand({
  name: "report",
  usage: "onevideo report <run folder>",
  options: { json: jsonOption },
  positionals: true,
  notes: [
    "report.html: the config, each start's environment, every logged metric as a curve, the",
    "pictures and every evaluation run on the folder; it opens offline, with nothing else.",
  ],
  run(options, folders) {
    if (folders.length !== 1) throw new UsageError("give one run folder: onevideo report <run>");
    const run = new RunFolder(resolve(folders[0]));
    if (!run.holdsRun()) throw new InputError(`${run.path} holds no run (no config.json); give a run folder`);
    const path = writeRunReport(run);
    printResult(options.json, [path], { report: path });
  },
});
