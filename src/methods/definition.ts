// What a method file gives the rest of onevideo, beyond the method itself: its validated
// options, how to build it, what it reads, and its named presets. The registry lists these.
import type { z } from "zod";
import type { TrainableMethod } from "../train/method.ts";

export interface MethodDefinition<
  Config extends { method: string },
  Method extends TrainableMethod = TrainableMethod,
> {
  /** The options for --help, without `method`. */
  options: Record<string, z.ZodType>;
  /** The strict schema of the whole config, `method` included (it defaults to this method). */
  schema: z.ZodType<Config, Partial<Config>>;
  create(config: Config): Method;
  /** Whether a sample is a whole clip (DoRA; VADeR's frame pairs) rather than a single frame. */
  readsClips(config: Config): boolean;
  /** Named option sets over the defaults: "demo" sizes the method for two CPU cores and minutes. */
  presets: { demo: Record<string, unknown> } & Record<string, Record<string, unknown>>;
}
