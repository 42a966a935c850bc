// What every optimizer shares: parameter groups with their own hyperparameters,
// per-parameter state tensors, and a state dict for checkpoints.
import { keep, noGrad, type Tensor } from "../torch/index.ts";

export interface ParamGroup<H> {
  params: Tensor[];
  options: H;
}

export type ParamGroupSpec<H> = { params: Tensor[] } & Partial<H>;

/** Serializable optimizer state: per-parameter tensors by "<group>.<index>.<name>", plus hyperparameters. */
export interface OptimizerState {
  tensors: Map<string, Tensor>;
  /** Steps taken by each parameter, by "<group>.<index>". */
  paramSteps: Record<string, number>;
  groups: Record<string, number | boolean>[];
  step: number;
}

export abstract class Optimizer<H extends object> {
  readonly paramGroups: ParamGroup<H>[];
  protected readonly state = new Map<Tensor, Map<string, Tensor>>();
  protected readonly paramSteps = new Map<Tensor, number>();
  stepCount = 0;

  constructor(params: Tensor[] | ParamGroupSpec<H>[], defaults: H) {
    const specs: ParamGroupSpec<H>[] =
      params.length > 0 && "params" in params[0]
        ? (params as ParamGroupSpec<H>[])
        : [{ params: params as Tensor[] } as ParamGroupSpec<H>];
    this.paramGroups = specs.map(({ params: groupParams, ...overrides }) => ({
      params: groupParams,
      options: { ...defaults, ...(overrides as unknown as Partial<H>) },
    }));
    for (const group of this.paramGroups) this.validate(group.options);
  }

  protected abstract validate(options: H): void;

  /** Updates one parameter from its gradient; step counts from 1 (called without recording gradients). */
  protected abstract update(
    parameter: Tensor,
    gradient: Tensor,
    options: H,
    state: Map<string, Tensor>,
    step: number,
  ): void;

  /** One optimisation step over every parameter that has a gradient. */
  step(): void {
    this.stepCount++;
    noGrad(() => {
      for (const group of this.paramGroups) {
        for (const parameter of group.params) {
          const gradient = parameter.grad;
          if (gradient === null) continue;
          let state = this.state.get(parameter);
          if (!state) {
            state = new Map();
            this.state.set(parameter, state);
          }
          const step = (this.paramSteps.get(parameter) ?? 0) + 1;
          this.paramSteps.set(parameter, step);
          this.update(parameter, gradient, group.options, state, step);
          gradient.dispose();
        }
      }
    });
  }

  /** A state tensor, created on first use and kept out of every scope. */
  protected stateTensor(state: Map<string, Tensor>, name: string, create: () => Tensor): Tensor {
    let tensor = state.get(name);
    if (!tensor) {
      tensor = keep(create());
      state.set(name, tensor);
    }
    return tensor;
  }

  zeroGrad(): void {
    for (const group of this.paramGroups) for (const parameter of group.params) parameter.grad = null;
  }

  stateDict(): OptimizerState {
    const tensors = new Map<string, Tensor>();
    const paramSteps: Record<string, number> = {};
    this.paramGroups.forEach((group, groupIndex) =>
      group.params.forEach((parameter, index) => {
        for (const [name, tensor] of this.state.get(parameter) ?? [])
          tensors.set(`${groupIndex}.${index}.${name}`, tensor);
        const steps = this.paramSteps.get(parameter);
        if (steps !== undefined) paramSteps[`${groupIndex}.${index}`] = steps;
      }),
    );
    return {
      tensors,
      paramSteps,
      groups: this.paramGroups.map((group) => ({ ...group.options }) as Record<string, number | boolean>),
      step: this.stepCount,
    };
  }

  /** Restores state saved by stateDict() for an optimizer over the same parameters. */
  loadStateDict(saved: OptimizerState): void {
    if (saved.groups.length !== this.paramGroups.length) {
      throw new Error(
        `optimizer state has ${saved.groups.length} parameter groups, this optimizer ${this.paramGroups.length}`,
      );
    }
    for (const [key, tensor] of saved.tensors) {
      const [groupIndex, index, name] = key.split(".");
      const parameter = this.paramGroups[Number(groupIndex)]?.params[Number(index)];
      if (!parameter) throw new Error(`optimizer state entry '${key}' names no parameter`);
      if (tensor.shape.join(",") !== parameter.shape.join(",")) {
        throw new Error(
          `optimizer state '${key}' has shape [${tensor.shape}], the parameter [${parameter.shape}]`,
        );
      }
      let state = this.state.get(parameter);
      if (!state) {
        state = new Map();
        this.state.set(parameter, state);
      }
      state.get(name)?.dispose();
      // Saved state is read on the CPU; it lives where its parameter does.
      state.set(
        name,
        keep(tensor.device === parameter.device ? tensor.clone() : tensor.to(parameter.device)),
      );
    }
    for (const [key, steps] of Object.entries(saved.paramSteps)) {
      const [groupIndex, index] = key.split(".");
      const parameter = this.paramGroups[Number(groupIndex)]?.params[Number(index)];
      if (!parameter) throw new Error(`optimizer step count '${key}' names no parameter`);
      this.paramSteps.set(parameter, steps);
    }
    saved.groups.forEach((options, index) => Object.assign(this.paramGroups[index].options, options));
    this.stepCount = saved.step;
  }
}
