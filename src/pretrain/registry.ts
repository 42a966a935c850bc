// The methods onevideo trains, by name. A method is its own file under src/methods/ (options,
// network, step, presets) plus one line here, which adds the pictures a finished run ends with.
import { z } from "zod";
import type { ImageSource } from "../data/frame_source.ts";
import type { ClipSource } from "../data/clip_source.ts";
import type { MethodDefinition } from "../methods/definition.ts";
import { dino, dinoConfigSchema, type DinoMethod } from "../methods/dino.ts";
import { dora, doraConfigSchema, type DoraMethod } from "../methods/dora.ts";
import { vader, vaderConfigSchema } from "../methods/vader.ts";
import type { TrainableMethod } from "../train/method.ts";
import type { RunFolder } from "../train/run_folder.ts";
import { writeAttentionPictures, writeObjectPictures } from "../viz/run_pictures.ts";

interface RegisteredMethod<
  Config extends { method: string },
  Method extends TrainableMethod,
> extends MethodDefinition<Config, Method> {
  /** Pictures beside the loss curve when a run finishes. */
  pictures?(run: RunFolder, method: Method, source: ImageSource): void;
}

/** DINO's figure: the teacher's [CLS] attention on a few frames. */
function attentionPictures(run: RunFolder, method: DinoMethod, source: ImageSource): void {
  writeAttentionPictures(run, method.teacher.backbone, source);
}

/** DoRA's figure: the objects the teacher discovers and tracks through a few clips. */
function objectPictures(run: RunFolder, method: DoraMethod, source: ImageSource): void {
  const { objects, ...discovery } = method.doraConfig;
  const heads = Array.from({ length: objects }, (_, head) => head);
  writeObjectPictures(run, method.teacher.backbone, source as ClipSource, heads, discovery);
}

function register<Config extends { method: string }, Method extends TrainableMethod>(
  definition: MethodDefinition<Config, Method>,
  pictures?: RegisteredMethod<Config, Method>["pictures"],
): RegisteredMethod<Config, Method> {
  return { ...definition, pictures };
}

const registry = {
  dino: register(dino, attentionPictures),
  dora: register(dora, objectPictures),
  vader: register(vader),
};

export type MethodName = keyof typeof registry;
export const methodNames = Object.keys(registry) as MethodName[];

/** Every method's config, told apart by `method` (default dino). */
export const pretrainConfigSchema = z.discriminatedUnion("method", [
  dinoConfigSchema,
  doraConfigSchema,
  vaderConfigSchema,
]);
export type PretrainConfig = z.infer<typeof pretrainConfigSchema>;

export function isMethodName(name: unknown): name is MethodName {
  return typeof name === "string" && Object.hasOwn(registry, name);
}

/** A method's entry, typed loosely: the caller holds a config of that method. */
export function methodEntry(name: MethodName): RegisteredMethod<PretrainConfig, TrainableMethod> {
  return registry[name] as unknown as RegisteredMethod<PretrainConfig, TrainableMethod>;
}
