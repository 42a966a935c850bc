// Progress of a long job, on stderr (stdout holds results): a live line on a terminal, which
// leaves the logged updates behind it as lines, and only the logged updates otherwise.

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  const [h, m] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60)];
  return h > 0
    ? `${h}h${String(m).padStart(2, "0")}m`
    : m > 0
      ? `${m}m${String(s % 60).padStart(2, "0")}s`
      : `${s}s`;
}

export class Progress {
  private readonly started = performance.now();
  private readonly live = process.stderr.isTTY === true;
  /** Whether the terminal's last line is a live one, not yet ended. */
  private open = false;

  constructor(
    private readonly total: number,
    private readonly unit: string,
  ) {}

  /** Reports `done` of the total; `details` are shown after the counts. */
  update(done: number, details: string, firstDone = 0, force = false): void {
    const elapsed = (performance.now() - this.started) / 1000;
    const rate = (done - firstDone) / Math.max(elapsed, 1e-9);
    const eta = (this.total - done) / rate;
    const line = `${this.unit} ${done}/${this.total}  ${details}  ${rate.toFixed(2)} ${this.unit}/s  ETA ${formatDuration(eta)}`;
    if (this.live) {
      process.stderr.write(`\r\x1b[K${line}${force ? "\n" : ""}`);
      this.open = !force;
    } else if (force) process.stderr.write(`${line}\n`);
  }

  finish(): void {
    if (this.open) process.stderr.write("\n");
    this.open = false;
  }
}
