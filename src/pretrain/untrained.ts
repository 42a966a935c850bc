// The untrained network a run starts from: the method built as `pretrain` builds it, from the
// same seed, its exports written as a run's are. The floor every learning figure is measured
// against.
import { mkdirSync } from "node:fs";
import { manualSeed } from "../torch/index.ts";
import { RunFolder } from "../train/run_folder.ts";
import { methodEntry, type PretrainConfig } from "./registry.ts";

/** Writes the untrained exports of `config` (seed included) into `folder`; returns the folder. */
export function writeUntrainedNetwork(config: PretrainConfig, folder: string): string {
  mkdirSync(folder, { recursive: true });
  manualSeed(config.seed);
  new RunFolder(folder).writeExports(methodEntry(config.method).create(config).exports());
  return folder;
}
