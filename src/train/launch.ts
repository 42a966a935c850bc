// The local launcher behind `--nproc-per-node N`, torchrun's job done the same way: N
// worker processes of this command on this machine, each told its place by torchrun's
// environment variables, the machine's cores shared among them. When one worker fails,
// the job has failed: the others are given a short grace to notice and stop, then ended;
// the launcher's exit code is the job's.
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { availableParallelism, constants } from "node:os";
import { UsageError } from "../errors.ts";

export interface LaunchOptions {
  nprocPerNode: number;
  nnodes: number;
  nodeRank: number;
  masterAddr: string;
  /** Undefined on a one-machine job: a free port is chosen (torchrun --standalone). */
  masterPort?: number;
  /** The worker's arguments after the command name, launcher flags removed. */
  workerArgs: string[];
  /** How long the others get to stop by themselves after one fails, in ms. */
  graceMs: number;
}

/** The launcher's flags, checked; throws one UsageError line for a bad one. */
export function launchOptionsFrom(
  options: Record<string, unknown>,
): Omit<LaunchOptions, "workerArgs" | "graceMs"> {
  const count = (key: string, flag: string, fallback: number, minimum: number) => {
    const value = options[key] ?? fallback;
    if (typeof value !== "number" || !Number.isInteger(value) || value < minimum) {
      throw new UsageError(`${flag} ${String(value)}: give an integer >= ${minimum}`);
    }
    return value;
  };
  const nprocPerNode = count("nprocPerNode", "--nproc-per-node", 1, 1);
  const nnodes = count("nnodes", "--nnodes", 1, 1);
  const nodeRank = count("nodeRank", "--node-rank", 0, 0);
  if (nodeRank >= nnodes) throw new UsageError(`--node-rank ${nodeRank} must be below --nnodes ${nnodes}`);
  const masterAddr = String(options.masterAddr ?? "127.0.0.1");
  if (nnodes > 1 && options.masterAddr === undefined) {
    throw new UsageError("--nnodes > 1 needs --master-addr: the address of the machine with --node-rank 0");
  }
  const port = options.masterPort;
  if (
    port !== undefined &&
    (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535)
  ) {
    throw new UsageError(`--master-port ${String(port)}: give a TCP port, 1-65535`);
  }
  return { nprocPerNode, nnodes, nodeRank, masterAddr, masterPort: port ?? (nnodes > 1 ? 29500 : undefined) };
}

/** A TCP port nothing listens on now, for a one-machine job's rendezvous. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Runs the workers to the end; resolves to the exit code for the whole job. */
export async function launchLocalWorkers(options: LaunchOptions): Promise<number> {
  const { nprocPerNode, nnodes, nodeRank, masterAddr, workerArgs, graceMs } = options;
  const masterPort = options.masterPort ?? (await freePort());
  const worldSize = nprocPerNode * nnodes;
  // Each worker gets its share of the cores (torchrun sets OMP_NUM_THREADS=1; a share is kinder).
  const threads =
    process.env.ONEVIDEO_THREADS ?? String(Math.max(1, Math.floor(availableParallelism() / nprocPerNode)));
  const workers: ChildProcess[] = [];
  let failure: string | null = null;
  // A worker that stopped for SIGINT or SIGTERM (after its checkpoint) exits with 128 + the signal.
  const stopCodes = new Set([128 + constants.signals.SIGINT, 128 + constants.signals.SIGTERM]);
  let stopCode: number | null = null;
  let ended = 0;
  return new Promise((resolve) => {
    let endTimer: NodeJS.Timeout | null = null;
    const stopAll = (signal: NodeJS.Signals) => {
      for (const worker of workers)
        if (worker.exitCode === null && worker.signalCode === null) worker.kill(signal);
    };
    const onExit = (rank: number, code: number | null, signal: NodeJS.Signals | null) => {
      ended += 1;
      if (code !== null && stopCodes.has(code)) stopCode = code;
      else if ((code !== 0 || signal !== null) && failure === null) {
        failure = signal ? `was ended by ${signal}` : `exited with code ${code}`;
        process.stderr.write(
          `onevideo: worker rank ${rank} ${failure}; stopping the job (resume it with --resume)\n`,
        );
        // The others fail their next collective and stop; whoever has not within the grace is ended.
        endTimer = setTimeout(() => {
          stopAll("SIGTERM");
          setTimeout(() => stopAll("SIGKILL"), 5000).unref();
        }, graceMs);
        endTimer.unref();
      }
      if (ended === workers.length) {
        if (endTimer) clearTimeout(endTimer);
        process.off("SIGINT", forward);
        process.off("SIGTERM", forward);
        resolve(failure === null ? (stopCode ?? 0) : 1);
      }
    };
    // The workers have process groups of their own, so a terminal's Ctrl-C reaches the launcher
    // alone and each worker gets it once from here: the first stops them after their step, a
    // second ends them at once.
    const forward = (signal: NodeJS.Signals) => stopAll(signal);
    process.on("SIGINT", forward);
    process.on("SIGTERM", forward);
    for (let localRank = 0; localRank < nprocPerNode; localRank++) {
      const rank = nodeRank * nprocPerNode + localRank;
      const worker = spawn(process.execPath, [...process.execArgv, process.argv[1], ...workerArgs], {
        env: {
          ...process.env,
          RANK: String(rank),
          LOCAL_RANK: String(localRank),
          WORLD_SIZE: String(worldSize),
          LOCAL_WORLD_SIZE: String(nprocPerNode),
          GROUP_RANK: String(nodeRank),
          MASTER_ADDR: masterAddr,
          MASTER_PORT: String(masterPort),
          ONEVIDEO_THREADS: threads,
        },
        // Rank 0 speaks for the job; every rank's errors reach stderr.
        stdio: ["ignore", rank === 0 ? "inherit" : "ignore", "inherit"],
        detached: true,
      });
      worker.on("exit", (code, signal) => onExit(rank, code, signal));
      workers.push(worker);
    }
  });
}
