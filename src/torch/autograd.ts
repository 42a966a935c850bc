// Gradient mode and gradient computation.
import { native } from "./native.ts";
import { Tensor } from "./tensor.ts";

function withGradMode<T>(enabled: boolean, fn: () => T): T {
  const previous = native.isGradEnabled();
  native.setGradEnabled(enabled);
  try {
    return fn();
  } finally {
    native.setGradEnabled(previous);
  }
}

/** Runs fn without recording operations for autograd (torch.no_grad). */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/** Runs fn with recording on, also inside noGrad (torch.enable_grad). */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}

export function isGradEnabled(): boolean {
  return native.isGradEnabled();
}

export interface GradOptions {
  gradOutputs?: Tensor[];
  retainGraph?: boolean;
  createGraph?: boolean;
  allowUnused?: boolean;
}

/** Gradients of outputs with respect to inputs (torch.autograd.grad); null where unused. */
export function grad(outputs: Tensor[], inputs: Tensor[], options: GradOptions = {}): (Tensor | null)[] {
  const handles = native.grad(
    outputs.map((t) => t.handle),
    inputs.map((t) => t.handle),
    options.gradOutputs ? options.gradOutputs.map((t) => t.handle) : null,
    options.retainGraph,
    options.createGraph ?? false,
    options.allowUnused ?? false,
  );
  return handles.map((handle) => (handle === null ? null : Tensor.fromHandle(handle)));
}

/** Accumulates gradients of several outputs into the leaves' .grad. */
export function backward(outputs: Tensor[], gradients?: Tensor[]): void {
  native.backward(
    outputs.map((t) => t.handle),
    gradients ? gradients.map((t) => t.handle) : null,
  );
}
