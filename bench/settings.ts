// A bench's settings from its BENCH_* variables. A value the bench cannot use stops it where it is
// read (for most benches, before any work), with one line naming the variable and what to give.

function refuse(name: string, value: string, wanted: string, example: string): never {
  process.stderr.write(
    `bench: ${name}=${value} is not ${wanted}; unset it or give one, e.g. ${name}=${example}\n`,
  );
  process.exit(2);
}

/** A count (steps, seeds, rounds): a whole number of at least `min`. */
export function wholeNumber(name: string, fallback: number, min = 1): number {
  const value = process.env[name];
  if (value === undefined) return fallback;
  const number = Number(value);
  if (value.trim() === "" || !Number.isInteger(number) || number < min) {
    refuse(name, value, `a whole number of at least ${min}`, String(fallback));
  }
  return number;
}

/** A length or rate (minutes, seconds, a ratio): a finite number above 0. */
export function positiveNumber(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined) return fallback;
  const number = Number(value);
  if (value.trim() === "" || !Number.isFinite(number) || number <= 0) {
    refuse(name, value, "a number above 0", String(fallback));
  }
  return number;
}

/** Some of a bench's named parts, comma-separated (all of them when the variable is unset). */
export function someOf(name: string, names: readonly string[]): string[] {
  const value = process.env[name];
  if (value === undefined) return [...names];
  const chosen = value.split(",").map((part) => part.trim());
  if (chosen.some((part) => !names.includes(part)))
    refuse(name, value, `a list of ${names.join(", ")}`, names.slice(0, 2).join(","));
  return chosen;
}
