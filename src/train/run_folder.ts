// A run folder and everything in it: the config it was started with, metrics as JSON lines,
// the summary, checkpoints (the newest named by latest.json), the exported weights and the
// pictures. This file is the one place that knows the layout; training writes through it,
// evaluation reads the networks through it.
import { createHash } from "node:crypto";
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
} from "node:fs";
import { basename, join } from "node:path";
import { InputError, printNote } from "../errors.ts";
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

/** What is wrong with a checkpoint's files, or its sidecar when nothing is. */
function checkpointProblem(path: string): string | Record<string, unknown> {
  let sidecar: Record<string, unknown>;
  try {
    sidecar = JSON.parse(readFileSync(`${path}.json`, "utf8")) as Record<string, unknown>;
  } catch (error) {
    return `${basename(path)}.json does not read: ${(error as Error).message.split("\n")[0]}`;
  }
  if (!existsSync(`${path}.safetensors`)) return `${basename(path)}.safetensors is missing`;
  if (typeof sidecar.sha256 === "string" && fileSha256(`${path}.safetensors`) !== sidecar.sha256) {
    return `${basename(path)}.safetensors does not match its checksum`;
  }
  return sidecar;
}

function fileSha256(path: string): string {
  const digest = createHash("sha256");
  const buffer = Buffer.allocUnsafe(1 << 22);
  const fd = openSync(path, "r");
  try {
    for (let read; (read = readSync(fd, buffer, 0, buffer.length, null)) > 0;)
      digest.update(buffer.subarray(0, read));
  } finally {
    closeSync(fd);
  }
  return digest.digest("hex");
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

  /** One entry per start of the run: what it ran with besides its options (versions, device, threads). */
  get environmentPath(): string {
    return join(this.path, "environment.json");
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

  /** One JSON line per evaluation run on this folder: the command, when, and its result. */
  get evaluationsPath(): string {
    return join(this.path, "evaluations.jsonl");
  }

  appendEvaluation(entry: object): void {
    appendFileSync(this.evaluationsPath, `${JSON.stringify(entry)}\n`);
  }

  /** Adds this start's entry to environment.json. */
  appendEnvironment(entry: object): void {
    writeFileAtomically(this.environmentPath, JSON.stringify([...this.readEnvironment(), entry], null, 1));
  }

  readEnvironment(): object[] {
    try {
      const entries = JSON.parse(readFileSync(this.environmentPath, "utf8")) as unknown;
      return Array.isArray(entries) ? (entries as object[]) : [];
    } catch {
      return []; // none yet (or a damaged one: the record starts again)
    }
  }

  readConfig(): Record<string, unknown> | null {
    return existsSync(this.configPath)
      ? (JSON.parse(readFileSync(this.configPath, "utf8")) as Record<string, unknown>)
      : null;
  }

  appendMetrics(record: object): void {
    appendFileSync(this.metricsPath, `${JSON.stringify(record)}\n`);
  }

  /** Drops the metric lines after `step` (a resumed run logs those steps again). */
  truncateMetrics(step: number): void {
    if (!existsSync(this.metricsPath)) return;
    const kept = this.readMetrics().filter((record) => record.step <= step);
    writeFileAtomically(this.metricsPath, kept.map((record) => `${JSON.stringify(record)}\n`).join(""));
  }

  readMetrics(): Record<string, number>[] {
    // A line cut short by a killed process is passed over.
    return readFileSync(this.metricsPath, "utf8")
      .split("\n")
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, number>];
        } catch {
          return [];
        }
      });
  }

  writeSummary(summary: object): void {
    writeFileAtomically(this.summaryPath, JSON.stringify(summary, null, 1));
  }

  get picturesDir(): string {
    return join(this.path, "pictures");
  }

  /** Where a picture of the run goes (pictures/<name>); the folder is made. */
  picturePath(name: string): string {
    mkdirSync(this.picturesDir, { recursive: true });
    return join(this.picturesDir, name);
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

  /** The newest intact checkpoint, as its path without extension, or null when there is none yet. */
  latestCheckpoint(warn: (line: string) => void = printNote): string | null {
    return this.newestIntactCheckpoint(warn)?.path ?? null;
  }

  /**
   * The newest checkpoint whose files are whole: its sidecar reads and its tensors hash to the
   * checksum the sidecar recorded (sidecars written before checksums are taken as they are).
   * Newer damaged ones are skipped with one line through `warn`; when every checkpoint is
   * damaged, one InputError line. A tensors file without its sidecar is a write that was cut
   * short, and is passed over quietly.
   */
  newestIntactCheckpoint(
    warn: (line: string) => void = printNote,
  ): { path: string; sidecar: Record<string, unknown> } | null {
    if (!existsSync(this.checkpointsDir)) return null;
    const names = readdirSync(this.checkpointsDir)
      .filter((file) => /^step-\d+\.json$/.test(file))
      .map((file) => file.slice(0, -".json".length))
      .sort()
      .reverse();
    const damaged: string[] = [];
    for (const name of names) {
      const path = join(this.checkpointsDir, name);
      const problem = checkpointProblem(path);
      if (typeof problem !== "string") {
        if (damaged.length > 0) warn(`${damaged.join("; ")}; using ${name}, the newest intact checkpoint`);
        return { path, sidecar: problem };
      }
      damaged.push(`checkpoint ${name} is damaged (${problem})`);
    }
    if (damaged.length > 0) {
      throw new InputError(
        `every checkpoint in ${this.checkpointsDir} is damaged (${damaged[0].replace(/^checkpoint /, "")}, ...); start the run again in another --out`,
      );
    }
    return null;
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
