// Parameter-free layers.
import { callTensor, F, type Tensor } from "../torch/index.ts";
import { Module } from "./module.ts";

export class GELU extends Module {
  forward(input: Tensor): Tensor {
    return F.gelu(input);
  }
}

export class ReLU extends Module {
  forward(input: Tensor): Tensor {
    return F.relu(input);
  }
}

export class Identity extends Module {
  forward(input: Tensor): Tensor {
    return callTensor("aten::alias", input);
  }
}
