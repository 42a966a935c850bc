// The contract every command keeps: its flags are zod schemas, read by Node's own parseArgs
// (a flag's schema says whether it takes a value and whether that value is a number), shown
// by --help with their defaults, validated before any work starts, then run. A bad flag is
// one UsageError line naming it (exit 2).
import { parseArgs } from "node:util";
import { z } from "zod";
import { UsageError } from "../errors.ts";
import { closest, describeOptions, flagName, optionKey, validateConfig } from "../options.ts";

export interface Command<Options = Record<string, unknown>> {
  /** How it is called, e.g. "eval knn". */
  name: string;
  /** The flags it reads, by option key (batchSize is --batch-size). */
  flags: Record<string, z.ZodType>;
  /** Whether it takes arguments besides flags (analyze's videos). */
  positionals?: boolean;
  /** The --help text; it may depend on the flags given (pretrain's on --method). */
  help(raw: Record<string, unknown>): string;
  /** The validated options. */
  parse(raw: Record<string, unknown>): Options;
  run(options: Options, positionals: string[]): void | Promise<void>;
}

/** A command whose options are exactly its flags, validated strictly. */
export function defineCommand<Shape extends Record<string, z.ZodType>>(spec: {
  name: string;
  usage: string;
  options: Shape;
  /** Lines after the option list. */
  notes?: string[];
  positionals?: boolean;
  run(options: z.output<z.ZodObject<Shape>>, positionals: string[]): void | Promise<void>;
}): Command<z.output<z.ZodObject<Shape>>> {
  const schema = z.object(spec.options).strict();
  const help = [
    `usage: ${spec.usage}`,
    "",
    ...describeOptions(spec.options),
    ...(spec.notes ? ["", ...spec.notes] : []),
  ].join("\n");
  return {
    name: spec.name,
    flags: spec.options,
    positionals: spec.positionals,
    help: () => help,
    parse: (raw) => validateConfig(schema, raw, spec.name),
    run: spec.run,
  };
}

/** What a flag's value is read as: a switch, a number, text, or a number where it looks like one. */
function valueKind(schema: z.ZodType): "boolean" | "number" | "string" | "either" {
  const def = (schema as unknown as { def: { type: string; innerType?: z.ZodType } }).def;
  if (def.innerType && ["default", "optional", "nullable", "prefault"].includes(def.type)) {
    return valueKind(def.innerType);
  }
  if (def.type === "boolean") return "boolean";
  if (def.type === "number" || def.type === "int") return "number";
  if (def.type === "literal") {
    const values = (schema as unknown as { def: { values: unknown[] } }).def.values;
    return values.every((value) => typeof value === "number") ? "number" : "string";
  }
  if (def.type === "union") {
    const kinds = new Set(
      (schema as unknown as { def: { options: z.ZodType[] } }).def.options.map(valueKind),
    );
    return kinds.size === 1 ? [...kinds][0] : "either";
  }
  return "string";
}

function convert(value: string, kind: ReturnType<typeof valueKind>): unknown {
  const number = Number(value);
  const numeric = value.trim() !== "" && !Number.isNaN(number);
  // A value that is not a number stays text, so that validation names the flag.
  return (kind === "number" || kind === "either") && numeric ? number : value;
}

/** argv as raw options by key (numbers where the flag's schema wants one) and positional arguments. */
export function parseFlags(
  command: Pick<Command, "name" | "flags" | "positionals">,
  argv: string[],
): { options: Record<string, unknown>; positionals: string[] } {
  const kinds = new Map(Object.entries(command.flags).map(([key, schema]) => [key, valueKind(schema)]));
  const byFlag = new Map([...kinds.keys(), "help"].map((key) => [flagName(key), key]));
  // A switch also has its --no- form, which sets it false (e.g. over a config file's true).
  const negated = new Map(
    [...kinds]
      .filter(([, kind]) => kind === "boolean")
      .map(([key]) => [`--no-${flagName(key).slice(2)}`, key]),
  );
  const declared: Record<string, { type: "boolean" | "string" }> = {};
  for (const [flag, key] of byFlag) {
    declared[flag.slice(2)] = { type: key === "help" || kinds.get(key) === "boolean" ? "boolean" : "string" };
  }
  for (const flag of negated.keys()) declared[flag.slice(2)] = { type: "boolean" };
  // "--attention-block -2": a negative number is the flag's value, not another flag.
  const args: string[] = [];
  for (const arg of argv) {
    const previous = args.at(-1);
    if (/^-\d/.test(arg) && previous?.startsWith("--") && !previous.includes("=")) {
      args[args.length - 1] = `${previous}=${arg}`;
    } else args.push(arg);
  }
  const seeHelp = `run 'onevideo ${command.name} --help'`;
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args, options: declared, strict: true, allowPositionals: true }));
  } catch (error) {
    const message = (error as Error).message;
    const flag = /'(--[^' =]+)/.exec(message)?.[1] ?? "";
    const code = (error as { code?: string }).code;
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      const key = optionKey(flag);
      const guess = closest(flag, [...byFlag.keys()]);
      const hint = guess === undefined ? "" : ` (did you mean ${guess}?)`;
      throw new UsageError(`unknown option '${key}' for ${command.name}${hint}; ${seeHelp}`);
    }
    if (/does not take an argument/.test(message)) throw new UsageError(`${flag} takes no value; ${seeHelp}`);
    throw new UsageError(`${flag} needs a value; ${seeHelp}`);
  }
  if (positionals.length > 0 && !command.positionals) {
    throw new UsageError(`unexpected argument '${positionals[0]}'; ${seeHelp}`);
  }
  const options: Record<string, unknown> = {};
  for (const [flag, value] of Object.entries(values)) {
    const off = negated.get(`--${flag}`);
    if (off !== undefined) {
      options[off] = false;
      continue;
    }
    const key = byFlag.get(`--${flag}`)!;
    options[key] = typeof value === "string" ? convert(value, kinds.get(key)!) : value;
  }
  return { options, positionals };
}

/** Parses, answers --help, validates and runs one command. */
export async function runCommand(command: Command<unknown>, argv: string[]): Promise<void> {
  const { options, positionals } = parseFlags(command, argv);
  const { help, ...raw } = options;
  if (help === true) {
    console.log(command.help(raw));
    return;
  }
  await command.run(command.parse(raw), positionals);
}

/** A command's result on stdout: its text lines, or with --json the result alone, as one JSON object. */
export function printResult(json: boolean, text: readonly string[], result: object): void {
  if (json) console.log(JSON.stringify(result));
  else for (const line of text) console.log(line);
}

/** Commands under one name (onevideo eval knn, eval davis, ...). */
export interface CommandGroup {
  usage: string;
  commands: CommandTable;
}

/** A table of commands, each loaded when it is called, with a one-line summary for the listing. */
export type CommandTable = Record<
  string,
  { summary: string; load: () => Promise<Command<unknown> | CommandGroup> }
>;

/** Runs the command the first argument names (`prefix` is what came before it), or prints the usage. */
export async function dispatch(group: CommandGroup, argv: string[], prefix = "onevideo"): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    console.log(group.usage);
    return;
  }
  const entry = Object.hasOwn(group.commands, name) ? group.commands[name] : undefined;
  if (!entry) {
    const what = prefix === "onevideo" ? "command" : `${prefix.slice("onevideo ".length)} subcommand`;
    throw new UsageError(`unknown ${what} '${name}'; run '${prefix} --help'`);
  }
  const loaded = await entry.load();
  if ("commands" in loaded) return dispatch(loaded, rest, `${prefix} ${name}`);
  await runCommand(loaded, rest);
}

/** The listing of a command table, for usage texts. */
export function commandList(commands: CommandTable): string[] {
  const width = Math.max(...Object.keys(commands).map((name) => name.length)) + 3;
  return Object.entries(commands).map(([name, { summary }]) => `  ${name.padEnd(width)}${summary}`);
}
