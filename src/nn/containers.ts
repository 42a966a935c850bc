// Containers whose children are named "0", "1", ... as in PyTorch.
import type { Tensor } from "../torch/index.ts";
import { type Layer, Module } from "./module.ts";

export class ModuleList<M extends Module = Module> extends Module {
  readonly items: M[];

  constructor(modules: M[]) {
    super();
    this.items = modules.map((module, index) => this.addModule(String(index), module));
  }

  get length(): number {
    return this.items.length;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}

export class Sequential extends ModuleList<Layer> {
  forward(input: Tensor): Tensor {
    let output = input;
    for (const layer of this.items) {
      const next = layer.forward(output);
      if (output !== input) output.dispose(); // intermediate activations are not needed by autograd's graph handles
      output = next;
    }
    return output;
  }
}
