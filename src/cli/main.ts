// The onevideo command line: one file per command; this one dispatches and turns
// input errors into one line and a non-zero exit.
import { DistributedError, InputError, userFacingLine } from "../errors.ts";

const usage = `onevideo: learn image encoders from one long video

usage: onevideo <command> [options]

commands:
  pretrain   train an encoder on a video (--method dino or dora)
  demo       the whole thing in minutes on a bundled street video
  attention  per-head [CLS] attention maps of an encoder on an image
  track      the objects DoRA's teacher discovers and follows through a clip
  eval       evaluate a frozen encoder: k-NN, linear and dense probes, DAVIS J&F; score masks
  tours      build the "tours" benchmark: a synthetic walking tour with ground-truth masks
  analyze    lightness, shots and objects per frame of footage: JSON, plots and an HTML report

'onevideo <command> --help' lists a command's options.`;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case "pretrain":
      return (await import("./pretrain.ts")).pretrainCommand(rest);
    case "demo":
      return (await import("./demo.ts")).demoCommand(rest);
    case "attention":
      return (await import("./attention.ts")).attentionCommand(rest);
    case "track":
      return (await import("./track.ts")).trackCommand(rest);
    case "eval":
      return (await import("./eval.ts")).evalCommand(rest);
    case "tours":
      return (await import("./tours.ts")).toursCommand(rest);
    case "analyze":
      return (await import("./analyze.ts")).analyzeCommand(rest);
    case undefined:
    case "help":
    case "--help":
    case "-h":
      console.log(usage);
      return;
    default:
      throw new InputError(`unknown command '${command}'; run 'onevideo --help'`);
  }
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  const line = userFacingLine(error);
  if (line === null) throw error;
  process.stderr.write(`${line}\n`);
  // After a failed collective the process group's threads may still wait on a dead peer: end now.
  if (error instanceof DistributedError) process.exit(1);
  process.exitCode = 1;
}
