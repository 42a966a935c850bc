// A run folder and everything in it: the config it was started with, metrics as JSON lines,
// the summary, checkpoints (the newest named by latest.json), the exported weights and the
// pictures. This file is the one place that knows the layout; training writes through it,
// evaluation reads the networks through it.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../errors.ts";
import {
  legacyDenseMetadata,
  type ModelMetadata,
  modelMetadataEntry,
  readModelMetadata,
} from "../models/model_metadata.ts";
import type { Module } from "../nn/index.ts";
import { readSafetensors, type Tensor, writeSafetensors } from "../torch/index.ts";
import { writeFileAtomically } from "../util/atomic_file.ts";

/** A network a run exports, with the metadata that rebuilds it without the training options. */
export interface ExportedNetwork {
  /** The teacher itself or one of its submodules. */
  module: Module;
  model: ModelMetadata;
}

/** The networks a run exports: the teacher's backbone and, for dense methods (VADeR), the whole encoder. */
export interface RunExports {
  backbone: ExportedNetwork;
  dense?: ExportedNetwork;
}

/** Weights read back from a run: the tensors, what network they are (null: say nothing), and from where. */
export interface StoredNetwork {
  tensors: Map<string, Tensor>;
  model: ModelMetadata | null;
  source: string;
}

/** Checkpoint metadata key: where in the checkpoint each exported network lives, and what it is. */
export const checkpointExportsKey = "onevideo_exports";
type ExportsRecord = Partial<Record<keyof RunExports, { prefix: string; model: ModelMetadata }>>;

const exportFiles: Record<keyof RunExports, string> = {
  backbone: "weights.safetensors",
  dense: "dense.safetensors",
};

export class RunFolder {
  constructor(readonly path: string) {}

  get configPath(): string {
    return join(this.path, "config.json");
  }

  get metricsPath(): string {
    return join(this.path, "metrics.jsonl");
  }

  get summaryPath(): string {
    return join(this.path, "summary.json");
  }

  get checkpointsDir(): string {
    return join(this.path, "checkpoints");
  }

  get weightsPath(): string {
    return join(this.path, exportFiles.backbone);
  }

  get densePath(): string {
    return join(this.path, exportFiles.dense);
  }

  /** Whether a run was started here (its config is written before the first step). */
  holdsRun(): boolean {
    return existsSync(this.configPath);
  }

  writeConfig(record: object): void {
    mkdirSync(this.path, { recursive: true });
    writeFileAtomically(this.configPath, JSON.stringify(record, null, 1));
  }

  readConfig(): Record<string, unknown> | null {
    return existsSync(this.configPath)
      ? (JSON.parse(readFileSync(this.configPath, "utf8")) as Record<string, unknown>)
      : null;
  }

  appendMetrics(record: object): void {
    appendFileSync(this.metricsPath, `${JSON.stringify(record)}\n`);
  }

  readMetrics(): Record<string, number>[] {
    return readFileSync(this.metricsPath, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, number>);
  }

  writeSummary(summary: object): void {
    writeFileAtomically(this.summaryPath, JSON.stringify(summary, null, 1));
  }

  /** Where a picture of the run goes (pictures/<name>); the folder is made. */
  picturePath(name: string): string {
    const directory = join(this.path, "pictures");
    mkdirSync(directory, { recursive: true });
    return join(directory, name);
  }

  /** A checkpoint's path without extension (".json" sidecar, ".safetensors" tensors). */
  checkpointPath(step: number): string {
    return join(this.checkpointsDir, `step-${String(step).padStart(8, "0")}`);
  }

  /** Makes a written checkpoint the one a resumed run starts from: latest.json is the commit point. */
  commitCheckpoint(checkpoint: string): void {
    const name = checkpoint.slice(this.checkpointsDir.length + 1);
    writeFileAtomically(join(this.checkpointsDir, "latest.json"), JSON.stringify({ checkpoint: name }));
  }

  /** The newest checkpoint, as its path without extension, or null. */
  latestCheckpoint(): string | null {
    const latest = join(this.checkpointsDir, "latest.json");
    if (!existsSync(latest)) return null;
    const { checkpoint } = JSON.parse(readFileSync(latest, "utf8")) as { checkpoint: string };
    return join(this.checkpointsDir, checkpoint);
  }

  /** Writes weights.safetensors (and dense.safetensors) from the networks; returns the weights' path. */
  writeExports(exports: RunExports): string {
    for (const [which, network] of Object.entries(exports) as [keyof RunExports, ExportedNetwork][]) {
      writeSafetensors(join(this.path, exportFiles[which]), network.module.stateDict(), {
        format: "pt",
        source: `onevideo teacher ${which}`,
        ...modelMetadataEntry(network.model),
      });
    }
    return this.weightsPath;
  }

  /**
   * An exported network: its file, else the teacher's copy in the newest checkpoint (a run
   * stopped early). Null where the run has no such network (dense, for a ViT method).
   */
  readNetwork(which: keyof RunExports): StoredNetwork | null {
    const file = join(this.path, exportFiles[which]);
    if (existsSync(file)) {
      const { tensors, metadata } = readSafetensors(file);
      return { tensors, model: readModelMetadata(metadata), source: file };
    }
    const checkpoint = this.latestCheckpoint();
    if (checkpoint === null) {
      if (which === "dense" && !this.#legacyDense()) return null;
      throw new InputError(
        `${this.path} holds neither ${exportFiles[which]} nor a checkpoint; train it first`,
      );
    }
    const path = `${checkpoint}.safetensors`;
    const { tensors, metadata } = readSafetensors(path);
    const record = metadata[checkpointExportsKey];
    const entry =
      record === undefined ? this.#legacyEntry(which) : (JSON.parse(record) as ExportsRecord)[which];
    if (entry === undefined) {
      for (const tensor of tensors.values()) tensor.dispose();
      return null;
    }
    const network = new Map<string, Tensor>();
    for (const [name, tensor] of tensors) {
      if (name.startsWith(entry.prefix)) network.set(name.slice(entry.prefix.length), tensor);
      else tensor.dispose();
    }
    return { tensors: network, model: entry.model, source: `${path} (teacher)` };
  }

  /** Where folders written before checkpoints named their exports kept the teacher's networks. */
  #legacyEntry(which: keyof RunExports): { prefix: string; model: ModelMetadata | null } | undefined {
    if (which === "backbone") return { prefix: "teacher.backbone.", model: null };
    const config = this.#legacyDense();
    return config ? { prefix: "teacher.", model: legacyDenseMetadata(config) } : undefined;
  }

  /** A VADeR run's recorded config, in folders written before the exports were named. */
  #legacyDense(): Record<string, unknown> | null {
    const config = this.readConfig();
    return config?.method === "vader" ? config : null;
  }
}

/** The checkpoint metadata naming where each exported network lives in the saved teacher. */
export function checkpointExportsEntry(teacher: Module, exports: RunExports): Record<string, string> {
  const paths = new Map([...teacher.namedModules()].map(([name, module]) => [module, name]));
  const record: ExportsRecord = {};
  for (const [which, network] of Object.entries(exports) as [keyof RunExports, ExportedNetwork][]) {
    const path = paths.get(network.module);
    if (path === undefined) throw new Error(`the exported ${which} is not part of the teacher`);
    record[which] = { prefix: path === "" ? "teacher." : `teacher.${path}.`, model: network.model };
  }
  return { [checkpointExportsKey]: JSON.stringify(record) };
}
