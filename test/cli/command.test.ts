// The command contract: flags are read as their schemas say (a text option stays text, a
// number option becomes a number, a negative number is a value), each bad flag is one line
// naming it, and shared option defaults are overridden without re-declaring the option.
import assert from "node:assert/strict";
import { test } from "node:test";
import { z } from "zod";
import { defineCommand, parseFlags, runCommand } from "../../src/cli/command.ts";
import { InputError } from "../../src/errors.ts";
import { validateConfig, withDefaults } from "../../src/options.ts";

const flags = {
  out: z.string().describe("folder"),
  steps: z.number().int().positive().optional(),
  attentionBlock: z.number().int().default(-1),
  patchSize: z.union([z.literal(8), z.literal(16)]).default(16),
  k: z.union([z.number().int(), z.string()]).default("10,20"),
  resume: z.boolean().default(false),
};
const command = { name: "try", flags };

test("each flag is read as its schema says", () => {
  const { options } = parseFlags(command, [
    ...["--out", "0123", "--steps", "5", "--attention-block", "-2", "--patch-size", "8"],
    ...["--k", "10,20,100", "--resume"],
  ]);
  assert.deepEqual(options, {
    out: "0123",
    steps: 5,
    attentionBlock: -2,
    patchSize: 8,
    k: "10,20,100",
    resume: true,
  });
  assert.deepEqual(parseFlags(command, ["--k=20", "--attention-block=-3"]).options, {
    k: 20,
    attentionBlock: -3,
  });
  // Not a number: left as text, so that validation names the flag.
  assert.deepEqual(parseFlags(command, ["--steps", "many"]).options, { steps: "many" });
});

test("a bad flag is one InputError line naming it", () => {
  const cases: [string[], RegExp][] = [
    [["--colour", "red"], /^unknown option 'colour' for try; run 'onevideo try --help'$/],
    [["--out"], /^--out needs a value/],
    [["--out", "--steps", "3"], /^--out needs a value/],
    [["--resume=yes"], /^--resume takes no value/],
    [["stray"], /^unexpected argument 'stray'/],
  ];
  for (const [argv, message] of cases) {
    assert.throws(
      () => parseFlags(command, argv),
      (error) => error instanceof InputError && message.test(error.message),
      argv.join(" "),
    );
  }
  assert.deepEqual(parseFlags({ ...command, positionals: true }, ["a.mp4", "b.mp4"]).positionals, [
    "a.mp4",
    "b.mp4",
  ]);
});

test("defineCommand: --help without running, validation before running, a missing option named", async () => {
  const ran: unknown[] = [];
  const defined = defineCommand({
    name: "try",
    usage: "onevideo try --out <dir>",
    options: flags,
    run: (options) => void ran.push(options),
  });
  assert.match(defined.help({}), /^usage: onevideo try --out <dir>\n\n {2}--out +folder$/m);
  await runCommand(defined, ["--help"]);
  await assert.rejects(
    runCommand(defined, ["--steps", "3"]),
    /^UsageError: try needs --out; run 'onevideo try --help'$/,
  );
  await assert.rejects(runCommand(defined, ["--out", "x", "--steps", "0"]), /invalid option --steps: /);
  assert.equal(ran.length, 0);
  await runCommand(defined, ["--out", "x"]);
  assert.deepEqual(ran, [{ out: "x", attentionBlock: -1, patchSize: 16, k: "10,20", resume: false }]);
});

test("withDefaults changes the defaults and keeps each option's type and description", () => {
  const shared = { lr: z.number().positive().default(5e-4).describe("peak rate"), steps: flags.steps };
  const changed = withDefaults(shared, { lr: 0.03, steps: 100 });
  const schema = z.object(changed).strict();
  assert.deepEqual(schema.parse({}), { lr: 0.03, steps: 100 });
  assert.equal(changed.lr.description, "peak rate");
  assert.throws(() => validateConfig(schema, { lr: -1 }), /invalid option --lr: /);
  assert.equal(shared.lr.parse(undefined), 5e-4, "the shared option itself is untouched");
  assert.throws(() => withDefaults(shared, { nope: 1 } as never), /no option 'nope'/);
});
