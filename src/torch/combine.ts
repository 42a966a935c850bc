// Functions of several tensors: joining, selecting, Einstein summation.
import { callTensor, type Tensor } from "./tensor.ts";

export function cat(tensors: Tensor[], dim = 0): Tensor {
  return callTensor("aten::cat", tensors, dim);
}

export function stack(tensors: Tensor[], dim = 0): Tensor {
  return callTensor("aten::stack", tensors, dim);
}

/** Einstein summation, e.g. einsum("bqd,bkd->bqk", q, k). */
export function einsum(equation: string, ...operands: Tensor[]): Tensor {
  return callTensor("aten::einsum", equation, operands);
}

/** Elementwise choice: whereTrue where condition holds, else whereFalse. */
export function where(condition: Tensor, whereTrue: Tensor | number, whereFalse: Tensor | number): Tensor {
  if (typeof whereTrue === "number" && typeof whereFalse === "number") {
    return callTensor("aten::where.Scalar", condition, whereTrue, whereFalse);
  }
  if (typeof whereTrue === "number")
    return callTensor("aten::where.ScalarSelf", condition, whereTrue, whereFalse);
  if (typeof whereFalse === "number")
    return callTensor("aten::where.ScalarOther", condition, whereTrue, whereFalse);
  return callTensor("aten::where.self", condition, whereTrue, whereFalse);
}

/** Pairwise distances between the rows of a [.., n, d] and b [.., m, d]. */
export function cdist(a: Tensor, b: Tensor, p = 2): Tensor {
  return callTensor("aten::cdist", a, b, p);
}
