// Deterministic memory management: scope(fn) disposes every tensor created inside fn
// except those it returns (TensorFlow.js's tidy); keep() exempts long-lived tensors.

export interface ScopedTensor {
  dispose(): void;
  readonly isDisposed: boolean;
  /** Leaves the tensor to the garbage collector: freed if it is collected undisposed. */
  watch(): void;
}

let active: ScopedTensor[] | null = null;
const exempt = new WeakSet<ScopedTensor>();

/** Called by every new tensor: the innermost open scope takes ownership, else the collector. */
export function track(tensor: ScopedTensor): void {
  if (active !== null) active.push(tensor);
  else tensor.watch();
}

/** Exempts a tensor from every scope (parameters, optimizer state, buffers). */
export function keep<T extends ScopedTensor>(tensor: T): T {
  exempt.add(tensor);
  tensor.watch();
  return tensor;
}

function collect(value: unknown, into: Set<unknown>, seen: Set<unknown>): void {
  if (value === null || typeof value !== "object" || seen.has(value)) return;
  seen.add(value);
  if ("dispose" in value && "isDisposed" in value) {
    into.add(value);
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) collect(item, into, seen);
  } else if (value instanceof Map) {
    for (const item of value.values()) collect(item, into, seen);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const item of Object.values(value)) collect(item, into, seen);
  }
}

/**
 * Runs fn and disposes the tensors it created, except the ones reachable from its
 * result (a tensor, or arrays, maps and plain objects holding tensors), which move
 * to the enclosing scope. fn must be synchronous.
 */
export function scope<T>(fn: () => T): T {
  const outer = active;
  const created: ScopedTensor[] = [];
  active = created;
  let result: T;
  try {
    result = fn();
  } catch (error) {
    active = outer;
    for (const tensor of created) if (!exempt.has(tensor)) tensor.dispose();
    throw error;
  }
  active = outer;
  if (result instanceof Promise) {
    for (const tensor of created) if (!exempt.has(tensor)) tensor.dispose();
    throw new Error("scope(fn): fn returned a Promise; scopes only manage synchronous work");
  }
  const returned = new Set<unknown>();
  collect(result, returned, new Set());
  for (const tensor of created) {
    if (exempt.has(tensor)) continue;
    if (!returned.has(tensor)) tensor.dispose();
    else if (outer !== null) outer.push(tensor);
    else tensor.watch();
  }
  return result;
}
