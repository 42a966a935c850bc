// Options, as every command and config file takes them: zod schemas with their defaults and
// descriptions, validated before any work starts (an unknown key, a wrong type or an
// impossible value is one UsageError line naming the flag, exit 2), and described for --help.
// The options several commands share are defined here once.
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { InputError, UsageError } from "./errors.ts";

export const positiveInt = z.number().int().positive();
export const fraction = z.number().min(0).max(1);

/** The weights a command reads. */
export const checkpointOption = z.string().describe("run folder, weights .safetensors or DINO/DoRA .pth");
export const deviceOption = z
  .string()
  .regex(/^(cpu|cuda(:\d+)?)$/, "use cpu, cuda or cuda:N")
  .optional()
  .describe("cpu, cuda or cuda:N (default: cuda when available)");
export const seedOption = z.number().int().min(0).default(0);
/** A folder a command writes; give it the command's own description. */
export const outOption = z.string().min(1);
/** Results as one JSON object, the last line on stdout, instead of text. */
export const jsonOption = z
  .boolean()
  .default(false)
  .describe("print the result as one JSON object (the last line on stdout) instead of text");

/** The flag of an option key: batchSize -> --batch-size. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** The option key of a flag's name, with or without its dashes: batch-size -> batchSize. */
export function optionKey(name: string): string {
  return name.replace(/^--/, "").replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The same options with other defaults (a method's published values over the shared ones). */
export function withDefaults<S extends Record<string, z.ZodType>>(
  shape: S,
  defaults: { [K in keyof S]?: z.output<S[K]> },
): S {
  const result: Record<string, z.ZodType> = { ...shape };
  for (const [key, value] of Object.entries(defaults)) {
    const option = shape[key];
    if (option === undefined) throw new Error(`withDefaults: no option '${key}'`);
    const inner =
      option instanceof z.ZodDefault || option instanceof z.ZodOptional ? option.unwrap() : option;
    result[key] = (inner as z.ZodType).default(value as never).describe(option.description ?? "");
  }
  return result as S;
}

/** Reads a JSON or YAML config file into options by key; keys are as on the command line (batch-size) or camelCase. */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  let parsed: Record<string, unknown>;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new InputError(`config file not found: ${path}`);
  }
  try {
    const value = path.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
    if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error("not a mapping");
    parsed = value as Record<string, unknown>;
  } catch (error) {
    // One line: the parser's first line (YAML adds a code frame below it), and where.
    const { message, linePos } = error as Error & { linePos?: { line: number; col: number }[] };
    const where = linePos?.[0] ? ` at line ${linePos[0].line}, column ${linePos[0].col}` : "";
    const first = message
      .split("\n")[0]
      .replace(/ at line \d+, column \d+:?$/, "")
      .replace(/:$/, "");
    throw new UsageError(`config file ${path} is not valid JSON/YAML of options (${first}${where})`);
  }
  const options: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(parsed)) {
    const key = optionKey(name);
    if (Object.hasOwn(options, key))
      throw new UsageError(`config file ${path} gives '${key}' twice (as ${name} too)`);
    options[key] = value;
  }
  return options;
}

/**
 * Validates options against a schema; the first problem becomes one UsageError line.
 * `command` names who asks, for the line about a required option that is missing.
 */
export function validateConfig<S extends z.ZodType>(
  schema: S,
  options: Record<string, unknown>,
  command?: string,
): z.infer<S> {
  const result = schema.safeParse(options);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (issue.code === "unrecognized_keys") {
    const shape = (schema as unknown as { shape?: Record<string, unknown> }).shape ?? {};
    const guess = closest(issue.keys[0], Object.keys(shape));
    const hint = guess === undefined ? "" : ` (did you mean '${guess}'?)`;
    throw new UsageError(
      `unknown option ${issue.keys.map((k) => `'${k}'`).join(", ")}${hint}; see --help for the options`,
    );
  }
  const key = issue.path.join(".");
  const value = options[key];
  if (command !== undefined && issue.path.length === 1 && value === undefined) {
    throw new UsageError(`${command} needs ${flagName(key)}; run 'onevideo ${command} --help'`);
  }
  throw new UsageError(`invalid option ${flagName(key || "config")}: ${problem(issue, value)}`);
}

/** What is wrong with a value, said in the user's terms. */
function problem(issue: z.core.$ZodIssue, value: unknown): string {
  if (issue.code === "invalid_value") {
    return `${JSON.stringify(value)} is not one of ${issue.values.map((v) => String(v)).join(", ")}`;
  }
  if (issue.code === "invalid_type" && issue.expected === "number" && typeof value === "string") {
    return `'${value}' is not a number`;
  }
  return issue.message;
}

/** The candidate nearest to a mistyped name (at most a third of its letters off), if any. */
export function closest(name: string, candidates: string[]): string | undefined {
  const distance = (a: string, b: string) => {
    let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      const row = [i];
      for (let j = 1; j <= b.length; j++) {
        row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      }
      previous = row;
    }
    return previous[b.length];
  };
  const scored = candidates.map((candidate) => [candidate, distance(name, candidate)] as const);
  const [best] = scored.sort((x, y) => x[1] - y[1]);
  return best && best[1] <= Math.max(1, Math.floor(name.length / 3)) ? best[0] : undefined;
}

/** Help lines for every option of a schema: flag, default, description. */
export function describeOptions(shape: Record<string, z.ZodType>): string[] {
  return Object.entries(shape).map(([key, schema]) => {
    const parsed = schema.safeParse(undefined);
    const fallback =
      parsed.success && parsed.data !== undefined ? ` (default ${JSON.stringify(parsed.data)})` : "";
    return `  ${flagName(key).padEnd(30)} ${schema.description ?? ""}${fallback}`;
  });
}
