// The errors a user sees: each is one line naming the input (or the run) and what to do.
// The command line prints them without a stack trace and exits non-zero.
import { statSync } from "node:fs";
import { constants } from "node:os";

/** Bad input: a missing file, a wrong option, footage that does not fit. */
export class InputError extends Error {
  override name = "InputError";
}

/** A command line that does not parse: an unknown flag or command, a bad or missing value (exit 2). */
export class UsageError extends InputError {
  override name = "UsageError";
}

/** Work that SIGINT or SIGTERM stopped before it finished, with nothing half-written left (exit 128 + signal). */
export class StoppedError extends InputError {
  override name = "StoppedError";
  constructor(
    readonly signal: NodeJS.Signals,
    message: string,
  ) {
    super(message);
  }
}

/** A run that cannot go on (e.g. the loss became NaN). */
export class TrainingError extends Error {
  override name = "TrainingError";
}

/** A collective failed: a rank died, hung past the timeout, or the network broke. */
export class DistributedError extends Error {
  override name = "DistributedError";
}

/** The line a user is shown for an error of these kinds, or null for a bug (which keeps its stack). */
export function userFacingLine(error: unknown): string | null {
  const known =
    error instanceof InputError || error instanceof TrainingError || error instanceof DistributedError;
  return known ? `onevideo: ${error.message}` : null;
}

/** The exit code of an error: 2 for a command line that does not parse, 128 + n for a stop by signal n, else 1. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof StoppedError) return 128 + constants.signals[error.signal];
  return error instanceof UsageError ? 2 : 1;
}

/** A note for the user (something done for them, e.g. a damaged checkpoint passed over): one line on stderr. */
export function printNote(line: string): void {
  process.stderr.write(`onevideo: ${line}\n`);
}

/** Checks that a path names a readable regular file; otherwise an InputError saying so. */
export function requireFile(path: string, what: string): void {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    throw new InputError(`${what} not found: ${path}`);
  }
  if (stats.isDirectory()) throw new InputError(`${what} ${path} is a directory, not a file`);
  if (stats.size === 0) throw new InputError(`${what} ${path} is empty (0 bytes)`);
}
