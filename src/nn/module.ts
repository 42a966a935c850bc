// Module: the unit models are built from. Holds named parameters, buffers and
// child modules, so that state dicts carry PyTorch's key names ("blocks.0.attn.qkv.weight").
import { type Device, type DType, isFloatingDType, keep, noGrad, type Tensor } from "../torch/index.ts";

export interface LoadReport {
  missingKeys: string[];
  unexpectedKeys: string[];
}

export class Module {
  training = true;
  readonly #parameters = new Map<string, Tensor>();
  readonly #buffers = new Map<string, Tensor>();
  readonly #children = new Map<string, Module>();

  /** Registers a trainable tensor under `name`; it outlives every scope. */
  protected addParameter(name: string, value: Tensor): Tensor {
    keep(value);
    if (!value.requiresGrad) value.requiresGrad_(true);
    this.#parameters.set(name, value);
    return value;
  }

  /** Registers state that is saved with the model but not trained (e.g. running means). */
  protected addBuffer(name: string, value: Tensor): Tensor {
    keep(value);
    this.#buffers.set(name, value);
    return value;
  }

  protected addModule<M extends Module>(name: string, module: M): M {
    this.#children.set(name, module);
    return module;
  }

  *namedChildren(): Generator<[string, Module]> {
    yield* this.#children;
  }

  *namedModules(prefix = ""): Generator<[string, Module]> {
    yield [prefix, this];
    for (const [name, child] of this.#children) {
      yield* child.namedModules(prefix ? `${prefix}.${name}` : name);
    }
  }

  /** Every module's own tensors of one kind, under dotted names. */
  #namedTensors(kind: (module: Module) => Map<string, Tensor>): [string, Tensor][] {
    const result: [string, Tensor][] = [];
    for (const [prefix, module] of this.namedModules()) {
      for (const [name, tensor] of kind(module)) result.push([prefix ? `${prefix}.${name}` : name, tensor]);
    }
    return result;
  }

  namedParameters(): [string, Tensor][] {
    return this.#namedTensors((module) => module.#parameters);
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, tensor]) => tensor);
  }

  namedBuffers(): [string, Tensor][] {
    return this.#namedTensors((module) => module.#buffers);
  }

  /** Number of scalar parameters. */
  parameterCount(): number {
    return this.parameters().reduce((total, tensor) => total + tensor.numel, 0);
  }

  train(mode = true): this {
    for (const [, module] of this.namedModules()) module.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Parameters and buffers by their PyTorch names. The tensors are the module's own: do not dispose them. */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /**
   * Copies values into the module's tensors (which keep their identity, so optimizers
   * holding them stay valid). Strict mode rejects missing and unexpected keys; a shape
   * mismatch is always an error.
   */
  loadStateDict(state: Map<string, Tensor>, options: { strict?: boolean } = {}): LoadReport {
    const own = this.stateDict();
    const missingKeys = [...own.keys()].filter((key) => !state.has(key));
    const unexpectedKeys = [...state.keys()].filter((key) => !own.has(key));
    if ((options.strict ?? true) && (missingKeys.length > 0 || unexpectedKeys.length > 0)) {
      const parts = [];
      if (missingKeys.length)
        parts.push(
          `missing keys: ${missingKeys.slice(0, 8).join(", ")}${missingKeys.length > 8 ? ", ..." : ""}`,
        );
      if (unexpectedKeys.length)
        parts.push(
          `unexpected keys: ${unexpectedKeys.slice(0, 8).join(", ")}${unexpectedKeys.length > 8 ? ", ..." : ""}`,
        );
      throw new Error(`state dict does not match the model (${parts.join("; ")})`);
    }
    for (const [key, target] of own) {
      const source = state.get(key);
      if (!source) continue;
      if (source.shape.join(",") !== target.shape.join(",")) {
        throw new Error(
          `state dict entry '${key}' has shape [${source.shape}], the model expects [${target.shape}]`,
        );
      }
    }
    noGrad(() => {
      for (const [key, target] of own) {
        const source = state.get(key);
        if (source) target.copy_(source);
      }
    });
    return { missingKeys, unexpectedKeys };
  }

  /** A fixed copy: no parameter takes gradients, and the module stays in evaluation mode. */
  freeze_(): this {
    for (const parameter of this.parameters()) parameter.requiresGrad_(false);
    return this.eval();
  }

  /** Clears every parameter's gradient. */
  zeroGrad(): void {
    for (const parameter of this.parameters()) parameter.grad = null;
  }

  /** Moves or casts every parameter and buffer in place; do it before making an optimizer. */
  to(target: Device | DType): this {
    noGrad(() => {
      for (const tensor of [...this.parameters(), ...this.namedBuffers().map(([, t]) => t)]) {
        const requiresGrad = tensor.requiresGrad;
        const isDevice = target === "cpu" || target.startsWith("cuda");
        if (!isDevice && !isFloatingDType(tensor.dtype)) continue; // casts leave integer buffers alone
        tensor.replaceWith_(tensor.to(target));
        if (requiresGrad) tensor.requiresGrad_(true);
      }
    });
    return this;
  }
}

/** A module with one tensor in and one out, the kind Sequential chains. */
export interface Layer extends Module {
  forward(input: Tensor): Tensor;
}
