// The onevideo command line: a table of commands, each in its own file and loaded only when
// called; errors meant for the user become one line and exit 2 (usage) or 1 (a failure at work).
import { packageVersion } from "../util/system.ts";
import { DistributedError, exitCodeOf, userFacingLine } from "../errors.ts";
import { commandList, type CommandTable, dispatch } from "./command.ts";

const commands: CommandTable = {
  pretrain: {
    summary: "train an encoder on a video (--method dino, dora or vader)",
    load: async () => (await import("./pretrain.ts")).command,
  },
  demo: {
    summary: "the whole thing in minutes: learn from a generated tour, measured before and after",
    load: async () => (await import("./demo.ts")).command,
  },
  attention: {
    summary: "per-head [CLS] attention maps of an encoder on an image",
    load: async () => (await import("./attention.ts")).command,
  },
  track: {
    summary: "the objects DoRA's teacher discovers and follows through a clip",
    load: async () => (await import("./track.ts")).command,
  },
  eval: {
    summary: "evaluate a frozen encoder: k-NN, linear and dense probes, DAVIS J&F; score masks",
    load: async () => (await import("./eval.ts")).group,
  },
  embed: {
    summary: "features of a folder of images or a video's frames, as safetensors or .npy",
    load: async () => (await import("./embed.ts")).command,
  },
  export: {
    summary: "an encoder as an ONNX model that onnxruntime runs in Node or a browser",
    load: async () => (await import("./export.ts")).command,
  },
  report: {
    summary: "a run's report.html again: config, metric curves, pictures, evaluations",
    load: async () => (await import("./report.ts")).command,
  },
  tours: {
    summary: 'build the "tours" benchmark: a synthetic walking tour with ground-truth masks',
    load: async () => (await import("./tours.ts")).command,
  },
  doctor: {
    summary: "what this machine gives onevideo (libtorch, BLAS, threads, CUDA, ffmpeg, disk) and the fixes",
    load: async () => (await import("./doctor.ts")).command,
  },
  analyze: {
    summary: "lightness, shots and objects per frame of footage: JSON, plots and an HTML report",
    load: async () => (await import("./analyze.ts")).command,
  },
};

const onevideo = {
  commands,
  usage: [
    "onevideo: learn image encoders from one long video",
    "",
    "usage: onevideo <command> [options]",
    "",
    "commands:",
    ...commandList(commands),
    "",
    "'onevideo <command> --help' lists a command's options; 'onevideo --version' prints the version.",
  ].join("\n"),
};

try {
  const argv = process.argv.slice(2);
  if (argv[0] === "--version" || argv[0] === "-v") console.log(packageVersion());
  else await dispatch(onevideo, argv);
} catch (error) {
  const line = userFacingLine(error);
  if (line === null) throw error;
  process.stderr.write(`${line}\n`);
  // After a failed collective the process group's threads may still wait on a dead peer: end now.
  if (error instanceof DistributedError) process.exit(1);
  process.exitCode = exitCodeOf(error);
}
