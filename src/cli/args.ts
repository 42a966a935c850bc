// Command-line flags to option objects: --kebab-case value (or =value) becomes camelCase;
// numbers and booleans are converted, a bare flag is true. Validation is the schema's job.

export interface ParsedArgs {
  options: Record<string, unknown>;
  positional: string[];
}

function convert(value: string): unknown {
  if (value === "true") return true;
  if (value === "false") return false;
  if (value.trim() !== "" && !Number.isNaN(Number(value))) return Number(value);
  return value;
}

export function parseArgs(argv: string[], booleanFlags: ReadonlySet<string> = new Set()): ParsedArgs {
  const options: Record<string, unknown> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const [flag, inline] = arg.slice(2).split(/=(.*)/s, 2);
    const key = flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    if (inline !== undefined) options[key] = convert(inline);
    else if (booleanFlags.has(key) || i + 1 >= argv.length || argv[i + 1].startsWith("--"))
      options[key] = true;
    else options[key] = convert(argv[++i]);
  }
  return { options, positional };
}
