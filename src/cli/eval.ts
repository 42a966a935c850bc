// onevideo eval: evaluation subcommands; davis-score scores predicted DAVIS masks.
import { scoreDavis } from "../eval/davis_score.ts";
import { InputError } from "../errors.ts";
import { parseArgs } from "./args.ts";

export const evalHelp = `usage: onevideo eval <subcommand> [options]

subcommands:
  knn           weighted k-NN accuracy of frozen [CLS] features (DINO's protocol)
  linear        linear probe on frozen features: top-1/top-5 accuracy (DINO's protocol)
  davis         DAVIS-2017 video object segmentation by label propagation, scored J&F
  dense         dense linear probe on a tour's held-out sequences: per-class IoU and mIoU
  davis-score   J, F and J&F of existing DAVIS-2017 semi-supervised masks

'onevideo eval <subcommand> --help' lists a subcommand's options.`;

export const davisScoreHelp = [
  "usage: onevideo eval davis-score --pred <dir> --gt <dir> [options]",
  "",
  "  --pred <dir>        predicted masks: <dir>/<sequence>/<frame>.png, palette PNGs of object ids",
  "  --gt <dir>          the annotations: the same layout, or a DAVIS-2017 root (its Annotations/480p)",
  "  --split <name>      with a DAVIS root: the ImageSets/2017 list to score (default val)",
  "  --sequences <a,b>   score only these sequences",
  "  --exclude-void      leave void (255) pixels out; davis2017-evaluation counts them as background",
  "",
  "Prints one JSON line: J, F, JF (means over all objects) and per-sequence scores.",
].join("\n");

const davisScoreFlags = new Set(["pred", "gt", "split", "sequences", "excludeVoid", "help"]);

function davisScoreCommand(argv: string[]): void {
  const { options, positional } = parseArgs(argv, new Set(["excludeVoid", "help"]));
  if (options.help) {
    console.log(davisScoreHelp);
    return;
  }
  const unknown = Object.keys(options).find((key) => !davisScoreFlags.has(key));
  if (unknown !== undefined) {
    throw new InputError(
      `unknown option '${unknown}' for davis-score; run 'onevideo eval davis-score --help'`,
    );
  }
  if (positional.length > 0) {
    throw new InputError(`unexpected argument '${positional[0]}'; run 'onevideo eval davis-score --help'`);
  }
  for (const flag of ["pred", "gt"] as const) {
    if (typeof options[flag] !== "string") {
      throw new InputError(`davis-score needs --${flag} <dir>; run 'onevideo eval davis-score --help'`);
    }
  }
  if (options.split !== undefined && typeof options.split !== "string") {
    throw new InputError("--split needs a split name, e.g. --split val");
  }
  const sequences =
    options.sequences === undefined ? undefined : String(options.sequences).split(",").filter(Boolean);
  const score = scoreDavis(options.pred as string, options.gt as string, {
    split: options.split as string | undefined,
    sequences,
    excludeVoid: options.excludeVoid === true,
  });
  console.log(JSON.stringify(score));
}

export async function evalCommand(argv: string[]): Promise<void> {
  const [subcommand, ...rest] = argv;
  switch (subcommand) {
    case "davis-score":
      return davisScoreCommand(rest);
    case "knn":
    case "linear":
    case "davis":
    case "dense": {
      const { options, positional } = parseArgs(rest);
      if (positional.length > 0) {
        throw new InputError(
          `unexpected argument '${positional[0]}'; run 'onevideo eval ${subcommand} --help'`,
        );
      }
      const module =
        subcommand === "knn"
          ? await import("./eval_knn.ts")
          : subcommand === "linear"
            ? await import("./eval_linear.ts")
            : subcommand === "davis"
              ? await import("./eval_davis.ts")
              : await import("./eval_dense.ts");
      if (options.help) return console.log(module.help);
      return module.command(options);
    }
    case undefined:
    case "help":
    case "--help":
    case "-h":
      console.log(evalHelp);
      return;
    default:
      throw new InputError(`unknown eval subcommand '${subcommand}'; run 'onevideo eval --help'`);
  }
}
