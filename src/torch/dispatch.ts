// Calls ATen operators by schema name ("aten::add.Tensor") through the addon's one
// generic entry point; operator ids are resolved once and cached.
import { type NativeHandle, native } from "./native.ts";

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

/**
 * What stands for a native tensor on the JavaScript side (the Tensor class): the generic
 * call passes its handle, so the dispatcher needs no knowledge of the class itself.
 */
export abstract class NativeTensorRef {
  abstract get handle(): NativeHandle;
}

function unwrap(args: unknown[]): unknown[] {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg instanceof NativeTensorRef) args[i] = arg.handle;
    else if (Array.isArray(arg) && arg.some((item) => item instanceof NativeTensorRef)) {
      args[i] = arg.map((item) => (item instanceof NativeTensorRef ? item.handle : item));
    }
  }
  return args;
}

/** Calls an operator; tensors (alone or in arrays) are passed by handle, results come back raw. */
export function callOp(qualifiedName: string, ...args: unknown[]): unknown {
  return native.callOp(operatorId(qualifiedName), ...unwrap(args));
}

/** The schema libtorch registered for an operator, e.g. for error messages and docs. */
export function operatorSchema(qualifiedName: string): string {
  return native.opSchema(operatorId(qualifiedName));
}

/** A number that must reach libtorch as a floating-point Scalar even when whole. */
export function asFloat(value: number): { float: number } {
  return { float: value };
}
