// Calls ATen operators by schema name ("aten::add.Tensor") through the addon's one
// generic entry point; operator ids are resolved once and cached.
import { native } from "./native.ts";
import { Tensor } from "./tensor.ts";

const operatorIds = new Map<string, number>();

function operatorId(qualifiedName: string): number {
  let id = operatorIds.get(qualifiedName);
  if (id === undefined) {
    const dot = qualifiedName.indexOf(".");
    const name = dot < 0 ? qualifiedName : qualifiedName.slice(0, dot);
    const overload = dot < 0 ? "" : qualifiedName.slice(dot + 1);
    id = native.resolveOp(name, overload);
    operatorIds.set(qualifiedName, id);
  }
  return id;
}

/** Whether the loaded libtorch has an operator (e.g. for version-dependent paths). */
export function hasOperator(qualifiedName: string): boolean {
  try {
    operatorId(qualifiedName);
    return true;
  } catch {
    return false;
  }
}

function unwrap(args: unknown[]): unknown[] {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg instanceof Tensor) args[i] = arg.handle;
    else if (Array.isArray(arg) && arg.some((item) => item instanceof Tensor)) {
      args[i] = arg.map((item) => (item instanceof Tensor ? item.handle : item));
    }
  }
  return args;
}

/** Calls an operator; Tensor arguments (alone or in arrays) are passed by handle. */
export function callOp(qualifiedName: string, ...args: unknown[]): unknown {
  return native.callOp(operatorId(qualifiedName), ...unwrap(args));
}

/** Calls an operator that returns one tensor. */
export function callTensor(qualifiedName: string, ...args: unknown[]): Tensor {
  const self = args[0];
  const result = native.callOp(operatorId(qualifiedName), ...unwrap(args));
  // In-place operators give back their first argument's handle: keep one Tensor per handle.
  if (self instanceof Tensor && result === args[0]) return self;
  return Tensor.fromHandle(result);
}

/** Calls an operator that returns a tuple or list of tensors. */
export function callTensors(qualifiedName: string, ...args: unknown[]): Tensor[] {
  const handles = native.callOp(operatorId(qualifiedName), ...unwrap(args)) as unknown[];
  return handles.map((handle) => Tensor.fromHandle(handle));
}

/** The schema libtorch registered for an operator, e.g. for error messages and docs. */
export function operatorSchema(qualifiedName: string): string {
  return native.opSchema(operatorId(qualifiedName));
}

/** A number that must reach libtorch as a floating-point Scalar even when whole. */
export function asFloat(value: number): { float: number } {
  return { float: value };
}
