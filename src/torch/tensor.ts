// The tensor: a typed face over one libtorch tensor, with PyTorch's method names in camelCase.
import { callOp, NativeTensorRef } from "./dispatch.ts";
import { type AnyTypedArray, type DType, dtypeCode, dtypeFromCode, typedArrayView } from "./dtype.ts";
import { type NativeHandle, native } from "./native.ts";
import { type ScopedTensor, track } from "./scope.ts";

export type Device = "cpu" | "cuda" | `cuda:${number}`;
export type Shape = readonly number[];
type TensorOrNumber = Tensor | number;

const dtypeSymbol = Symbol("dtype");

// Tensors nobody disposed are freed when their Tensor object is garbage collected.
const collector = new FinalizationRegistry<NativeHandle>((handle) => native.dispose(handle));

export class Tensor extends NativeTensorRef implements ScopedTensor {
  #handle: NativeHandle | null;
  #shape: number[] | undefined;
  #watched = false;
  [dtypeSymbol]: DType | undefined;

  private constructor(handle: NativeHandle) {
    super();
    this.#handle = handle;
    track(this);
  }

  /** Wraps a handle returned by the addon (internal). */
  static fromHandle(handle: unknown): Tensor {
    if (handle === null || handle === undefined) {
      throw new Error("expected a tensor result, got none");
    }
    return new Tensor(handle as NativeHandle);
  }

  /** The native handle; throws once the tensor was disposed. */
  override get handle(): NativeHandle {
    if (this.#handle === null) {
      throw new Error("this tensor was disposed and cannot be used any more");
    }
    return this.#handle;
  }

  get isDisposed(): boolean {
    return this.#handle === null;
  }

  /** Frees the tensor's memory now (views keep their shared storage alive). */
  dispose(): void {
    if (this.#handle === null) return;
    if (this.#watched) collector.unregister(this);
    native.dispose(this.#handle);
    this.#handle = null;
  }

  /** Leaves this tensor to the garbage collector: it is freed if collected undisposed. */
  watch(): void {
    if (this.#watched || this.#handle === null) return;
    collector.register(this, this.#handle, this);
    this.#watched = true;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /**
   * Makes this object hold another tensor, which is consumed; its old tensor is freed.
   * This is how Module.to() moves parameters while every reference to them stays valid.
   */
  replaceWith_(source: Tensor): this {
    const handle = source.handle;
    if (source.#watched) collector.unregister(source);
    source.#handle = null;
    if (this.#handle !== null) native.dispose(this.#handle);
    this.#handle = handle;
    if (this.#watched) {
      collector.unregister(this);
      collector.register(this, handle, this);
    }
    this.#shape = undefined;
    this[dtypeSymbol] = undefined;
    return this;
  }

  // ---- metadata ----

  get shape(): Shape {
    if (this.#shape === undefined) this.#shape = native.shape(this.handle);
    return this.#shape;
  }

  get dtype(): DType {
    let dtype = this[dtypeSymbol];
    if (dtype === undefined) {
      dtype = dtypeFromCode(native.dtype(this.handle));
      this[dtypeSymbol] = dtype;
    }
    return dtype;
  }

  get device(): Device {
    return native.device(this.handle) as Device;
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** Size along one dimension (negative counts from the end). */
  size(dim: number): number {
    const shape = this.shape;
    const index = dim < 0 ? shape.length + dim : dim;
    if (index < 0 || index >= shape.length) {
      throw new RangeError(`dimension ${dim} is out of range for a ${shape.length}-d tensor`);
    }
    return shape[index];
  }

  get numel(): number {
    let count = 1;
    for (const size of this.shape) count *= size;
    return count;
  }

  override toString(): string {
    return `Tensor(${native.describe(this.handle)})`;
  }

  // ---- data ----

  /** A copy of the elements as the dtype's TypedArray (float16/bfloat16 as raw bits). */
  data(): AnyTypedArray {
    return typedArrayView(this.dtype, native.toBuffer(this.handle));
  }

  /** The elements as plain numbers, row-major. */
  toArray(): number[] {
    const source = this.dtype === "float16" || this.dtype === "bfloat16" ? this.float() : this;
    const values = source.data();
    if (source !== this) source.dispose();
    return Array.from(values as ArrayLike<number | bigint>, Number);
  }

  /** The value of a one-element tensor. */
  item(): number {
    const value = callOp("aten::item", this);
    return typeof value === "boolean" ? Number(value) : (value as number);
  }

  // ---- autograd ----

  get requiresGrad(): boolean {
    return native.requiresGrad(this.handle);
  }

  /** Sets requires_grad in place (leaf tensors only) and returns this tensor. */
  requiresGrad_(requires = true): this {
    native.setRequiresGrad(this.handle, requires);
    return this;
  }

  get isLeaf(): boolean {
    return native.isLeaf(this.handle);
  }

  /** The accumulated gradient, or null. A new Tensor object each read: dispose it when done. */
  get grad(): Tensor | null {
    const handle = native.getGrad(this.handle);
    return handle === null ? null : new Tensor(handle);
  }

  set grad(gradient: Tensor | null) {
    native.setGrad(this.handle, gradient === null ? null : gradient.handle);
  }

  /** Name of the autograd node that made this tensor, e.g. "MulBackward0". */
  get gradFn(): string | null {
    return native.gradFn(this.handle);
  }

  retainGrad(): void {
    native.retainGrad(this.handle);
  }

  backward(gradient?: Tensor, options: { retainGraph?: boolean; createGraph?: boolean } = {}): void {
    native.backward(
      [this.handle],
      gradient ? [gradient.handle] : null,
      options.retainGraph,
      options.createGraph ?? false,
    );
  }

  detach(): Tensor {
    return callTensor("aten::detach", this);
  }

  clone(): Tensor {
    return callTensor("aten::clone", this);
  }

  // ---- conversion ----

  to(target: DType | Device, options: { nonBlocking?: boolean } = {}): Tensor {
    if (target === "cpu" || target.startsWith("cuda")) {
      return callTensor("aten::to.device", this, target, dtypeCode(this.dtype), options.nonBlocking ?? false);
    }
    return callTensor("aten::to.dtype", this, dtypeCode(target as DType), options.nonBlocking ?? false);
  }

  /** A copy in page-locked host memory, which a non-blocking copy to a GPU can overlap. */
  pinMemory(): Tensor {
    return callTensor("aten::pin_memory", this, null);
  }

  float(): Tensor {
    return this.to("float32");
  }

  /**
   * float32, or the tensor's own dtype when that is wider (float64): for the steps that must not
   * run in bf16/fp16 under autocast, while a float64 computation (a reference test) stays exact.
   */
  atLeastFloat32(): Tensor {
    return this.dtype === "float64" ? this.view(...this.shape) : this.to("float32");
  }

  long(): Tensor {
    return this.to("int64");
  }

  bool(): Tensor {
    return this.to("bool");
  }

  cpu(): Tensor {
    return this.to("cpu");
  }

  cuda(index = 0): Tensor {
    return this.to(`cuda:${index}`);
  }

  // ---- elementwise arithmetic ----

  add(other: TensorOrNumber, alpha = 1): Tensor {
    return typeof other === "number"
      ? callTensor("aten::add.Scalar", this, other, alpha)
      : callTensor("aten::add.Tensor", this, other, alpha);
  }

  sub(other: TensorOrNumber, alpha = 1): Tensor {
    return typeof other === "number"
      ? callTensor("aten::sub.Scalar", this, other, alpha)
      : callTensor("aten::sub.Tensor", this, other, alpha);
  }

  /** other - this. */
  rsub(other: number): Tensor {
    return callTensor("aten::rsub.Scalar", this, other);
  }

  mul(other: TensorOrNumber): Tensor {
    return typeof other === "number"
      ? callTensor("aten::mul.Scalar", this, other)
      : callTensor("aten::mul.Tensor", this, other);
  }

  /** True division; integer tensors give floats. */
  div(other: TensorOrNumber): Tensor {
    return typeof other === "number"
      ? callTensor("aten::div.Scalar", this, other)
      : callTensor("aten::div.Tensor", this, other);
  }

  pow(exponent: TensorOrNumber): Tensor {
    return typeof exponent === "number"
      ? callTensor("aten::pow.Tensor_Scalar", this, exponent)
      : callTensor("aten::pow.Tensor_Tensor", this, exponent);
  }

  neg(): Tensor {
    return callTensor("aten::neg", this);
  }
  abs(): Tensor {
    return callTensor("aten::abs", this);
  }
  sign(): Tensor {
    return callTensor("aten::sign", this);
  }
  exp(): Tensor {
    return callTensor("aten::exp", this);
  }
  log(): Tensor {
    return callTensor("aten::log", this);
  }
  sqrt(): Tensor {
    return callTensor("aten::sqrt", this);
  }
  rsqrt(): Tensor {
    return callTensor("aten::rsqrt", this);
  }
  square(): Tensor {
    return callTensor("aten::mul.Tensor", this, this);
  }
  reciprocal(): Tensor {
    return callTensor("aten::reciprocal", this);
  }
  sigmoid(): Tensor {
    return callTensor("aten::sigmoid", this);
  }
  tanh(): Tensor {
    return callTensor("aten::tanh", this);
  }
  relu(): Tensor {
    return callTensor("aten::relu", this);
  }
  sin(): Tensor {
    return callTensor("aten::sin", this);
  }
  cos(): Tensor {
    return callTensor("aten::cos", this);
  }
  erf(): Tensor {
    return callTensor("aten::erf", this);
  }
  floor(): Tensor {
    return callTensor("aten::floor", this);
  }
  ceil(): Tensor {
    return callTensor("aten::ceil", this);
  }
  round(): Tensor {
    return callTensor("aten::round", this);
  }

  clamp(min: number | null, max: number | null = null): Tensor {
    return callTensor("aten::clamp", this, min === null ? null : min, max === null ? null : max);
  }

  clampMin(min: number): Tensor {
    return callTensor("aten::clamp_min", this, min);
  }

  maximum(other: Tensor): Tensor {
    return callTensor("aten::maximum", this, other);
  }

  minimum(other: Tensor): Tensor {
    return callTensor("aten::minimum", this, other);
  }

  /** this + value * tensor1 * tensor2, broadcast: one pass where mul then add makes two. */
  addcmul(tensor1: Tensor, tensor2: Tensor, value = 1): Tensor {
    return callTensor("aten::addcmul", this, tensor1, tensor2, value);
  }

  /** this + weight * (end - this). */
  lerp(end: Tensor, weight: number): Tensor {
    return callTensor("aten::lerp.Scalar", this, end, weight);
  }

  // ---- comparison and logic ----

  eq(other: TensorOrNumber): Tensor {
    return typeof other === "number"
      ? callTensor("aten::eq.Scalar", this, other)
      : callTensor("aten::eq.Tensor", this, other);
  }
  ne(other: TensorOrNumber): Tensor {
    return typeof other === "number"
      ? callTensor("aten::ne.Scalar", this, other)
      : callTensor("aten::ne.Tensor", this, other);
  }
  gt(other: TensorOrNumber): Tensor {
    return typeof other === "number"
      ? callTensor("aten::gt.Scalar", this, other)
      : callTensor("aten::gt.Tensor", this, other);
  }
  ge(other: TensorOrNumber): Tensor {
    return typeof other === "number"
      ? callTensor("aten::ge.Scalar", this, other)
      : callTensor("aten::ge.Tensor", this, other);
  }
  lt(other: TensorOrNumber): Tensor {
    return typeof other === "number"
      ? callTensor("aten::lt.Scalar", this, other)
      : callTensor("aten::lt.Tensor", this, other);
  }
  le(other: TensorOrNumber): Tensor {
    return typeof other === "number"
      ? callTensor("aten::le.Scalar", this, other)
      : callTensor("aten::le.Tensor", this, other);
  }
  logicalNot(): Tensor {
    return callTensor("aten::logical_not", this);
  }
  logicalAnd(other: Tensor): Tensor {
    return callTensor("aten::logical_and", this, other);
  }
  logicalOr(other: Tensor): Tensor {
    return callTensor("aten::logical_or", this, other);
  }
  isnan(): Tensor {
    return callTensor("aten::isnan", this);
  }
  isfinite(): Tensor {
    return callTensor("aten::isfinite", this);
  }

  /** A copy with value where mask is true. */
  maskedFill(mask: Tensor, value: number): Tensor {
    return callTensor("aten::masked_fill.Scalar", this, mask, value);
  }

  // ---- reductions ----

  sum(dim?: number | number[], keepdim = false): Tensor {
    return dim === undefined
      ? callTensor("aten::sum", this)
      : callTensor("aten::sum.dim_IntList", this, dim, keepdim);
  }

  mean(dim?: number | number[], keepdim = false): Tensor {
    return dim === undefined
      ? callTensor("aten::mean", this)
      : callTensor("aten::mean.dim", this, dim, keepdim);
  }

  /** Standard deviation (Bessel-corrected unless unbiased is false). */
  std(dim?: number | number[], unbiased = true, keepdim = false): Tensor {
    return callTensor("aten::std.dim", this, dim ?? null, unbiased, keepdim);
  }

  var(dim?: number | number[], unbiased = true, keepdim = false): Tensor {
    return callTensor("aten::var.dim", this, dim ?? null, unbiased, keepdim);
  }

  /** Vector p-norm over dim (all elements by default). */
  norm(p = 2, dim?: number | number[], keepdim = false): Tensor {
    return callTensor("aten::linalg_vector_norm", this, p, dim ?? null, keepdim);
  }

  /** Largest element, or { values, indices } along dim. */
  max(): Tensor;
  max(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  max(dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    if (dim === undefined) return callTensor("aten::max", this);
    const [values, indices] = callTensors("aten::max.dim", this, dim, keepdim);
    return { values, indices };
  }

  min(): Tensor;
  min(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  min(dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    if (dim === undefined) return callTensor("aten::min", this);
    const [values, indices] = callTensors("aten::min.dim", this, dim, keepdim);
    return { values, indices };
  }

  amax(dim: number | number[], keepdim = false): Tensor {
    return callTensor("aten::amax", this, dim, keepdim);
  }

  amin(dim: number | number[], keepdim = false): Tensor {
    return callTensor("aten::amin", this, dim, keepdim);
  }

  argmax(dim?: number, keepdim = false): Tensor {
    return callTensor("aten::argmax", this, dim ?? null, keepdim);
  }

  argmin(dim?: number, keepdim = false): Tensor {
    return callTensor("aten::argmin", this, dim ?? null, keepdim);
  }

  logsumexp(dim: number | number[], keepdim = false): Tensor {
    return callTensor("aten::logsumexp", this, dim, keepdim);
  }

  cumsum(dim: number): Tensor {
    return callTensor("aten::cumsum", this, dim);
  }

  prod(): Tensor {
    return callTensor("aten::prod", this);
  }

  all(): Tensor {
    return callTensor("aten::all", this);
  }

  any(): Tensor {
    return callTensor("aten::any", this);
  }

  softmax(dim: number): Tensor {
    return callTensor("aten::softmax.int", this, dim);
  }

  logSoftmax(dim: number): Tensor {
    return callTensor("aten::log_softmax.int", this, dim);
  }

  /** The k largest (or smallest) elements along dim. */
  topk(k: number, dim = -1, largest = true, sorted = true): { values: Tensor; indices: Tensor } {
    const [values, indices] = callTensors("aten::topk", this, k, dim, largest, sorted);
    return { values, indices };
  }

  sort(dim = -1, descending = false): { values: Tensor; indices: Tensor } {
    const [values, indices] = callTensors("aten::sort", this, dim, descending);
    return { values, indices };
  }

  argsort(dim = -1, descending = false): Tensor {
    return callTensor("aten::argsort", this, dim, descending);
  }

  // ---- linear algebra ----

  matmul(other: Tensor): Tensor {
    return callTensor("aten::matmul", this, other);
  }

  mm(other: Tensor): Tensor {
    return callTensor("aten::mm", this, other);
  }

  bmm(other: Tensor): Tensor {
    return callTensor("aten::bmm", this, other);
  }

  // ---- shape and views ----

  reshape(...shape: number[]): Tensor {
    return callTensor("aten::reshape", this, shape);
  }

  view(...shape: number[]): Tensor {
    return callTensor("aten::view", this, shape);
  }

  flatten(startDim = 0, endDim = -1): Tensor {
    return callTensor("aten::flatten.using_ints", this, startDim, endDim);
  }

  unflatten(dim: number, sizes: number[]): Tensor {
    const shape = [...this.shape];
    const index = dim < 0 ? shape.length + dim : dim;
    shape.splice(index, 1, ...sizes);
    return this.reshape(...shape);
  }

  unsqueeze(dim: number): Tensor {
    return callTensor("aten::unsqueeze", this, dim);
  }

  squeeze(dim?: number): Tensor {
    return dim === undefined ? callTensor("aten::squeeze", this) : callTensor("aten::squeeze.dim", this, dim);
  }

  transpose(dim0: number, dim1: number): Tensor {
    return callTensor("aten::transpose.int", this, dim0, dim1);
  }

  permute(...dims: number[]): Tensor {
    return callTensor("aten::permute", this, dims);
  }

  /** Transpose of a 2-d tensor. */
  t(): Tensor {
    return callTensor("aten::t", this);
  }

  expand(...shape: number[]): Tensor {
    return callTensor("aten::expand", this, shape);
  }

  expandAs(other: Tensor): Tensor {
    return callTensor("aten::expand", this, other.shape);
  }

  repeat(...repeats: number[]): Tensor {
    return callTensor("aten::repeat", this, repeats);
  }

  contiguous(): Tensor {
    return callTensor("aten::contiguous", this);
  }

  narrow(dim: number, start: number, length: number): Tensor {
    return callTensor("aten::narrow", this, dim, start, length);
  }

  /** Elements start..end (exclusive) with a step along dim, as a view. */
  slice(dim: number, start: number | null, end: number | null = null, step = 1): Tensor {
    return callTensor("aten::slice.Tensor", this, dim, start, end, step);
  }

  /** The sub-tensor at index along dim, with that dimension removed. */
  select(dim: number, index: number): Tensor {
    return callTensor("aten::select.int", this, dim, index);
  }

  indexSelect(dim: number, index: Tensor): Tensor {
    return callTensor("aten::index_select", this, dim, index);
  }

  /** Advanced indexing, tensor[indices...] with null for ':'. */
  index(indices: (Tensor | null)[]): Tensor {
    return callTensor("aten::index.Tensor", this, indices);
  }

  gather(dim: number, index: Tensor): Tensor {
    return callTensor("aten::gather", this, dim, index);
  }

  scatter(dim: number, index: Tensor, source: TensorOrNumber): Tensor {
    return typeof source === "number"
      ? callTensor("aten::scatter.value", this, dim, index, source)
      : callTensor("aten::scatter.src", this, dim, index, source);
  }

  scatterAdd(dim: number, index: Tensor, source: Tensor): Tensor {
    return callTensor("aten::scatter_add", this, dim, index, source);
  }

  chunk(chunks: number, dim = 0): Tensor[] {
    return callTensors("aten::chunk", this, chunks, dim);
  }

  split(sizes: number | number[], dim = 0): Tensor[] {
    return typeof sizes === "number"
      ? callTensors("aten::split.Tensor", this, sizes, dim)
      : callTensors("aten::split_with_sizes", this, sizes, dim);
  }

  unbind(dim = 0): Tensor[] {
    return callTensors("aten::unbind.int", this, dim);
  }

  flip(...dims: number[]): Tensor {
    return callTensor("aten::flip", this, dims);
  }

  roll(shifts: number | number[], dims: number | number[]): Tensor {
    return callTensor("aten::roll", this, shifts, dims);
  }

  tril(diagonal = 0): Tensor {
    return callTensor("aten::tril", this, diagonal);
  }

  // ---- in place (each returns this tensor) ----

  add_(other: TensorOrNumber, alpha = 1): this {
    if (typeof other === "number") callOp("aten::add_.Scalar", this, other, alpha);
    else callOp("aten::add_.Tensor", this, other, alpha);
    return this;
  }

  sub_(other: TensorOrNumber, alpha = 1): this {
    if (typeof other === "number") callOp("aten::sub_.Scalar", this, other, alpha);
    else callOp("aten::sub_.Tensor", this, other, alpha);
    return this;
  }

  mul_(other: TensorOrNumber): this {
    if (typeof other === "number") callOp("aten::mul_.Scalar", this, other);
    else callOp("aten::mul_.Tensor", this, other);
    return this;
  }

  div_(other: TensorOrNumber): this {
    if (typeof other === "number") callOp("aten::div_.Scalar", this, other);
    else callOp("aten::div_.Tensor", this, other);
    return this;
  }

  /** this += value * tensor1 * tensor2. */
  addcmul_(tensor1: Tensor, tensor2: Tensor, value = 1): this {
    callOp("aten::addcmul_", this, tensor1, tensor2, value);
    return this;
  }

  /** this += value * tensor1 / tensor2. */
  addcdiv_(tensor1: Tensor, tensor2: Tensor, value = 1): this {
    callOp("aten::addcdiv_", this, tensor1, tensor2, value);
    return this;
  }

  lerp_(end: Tensor, weight: number): this {
    callOp("aten::lerp_.Scalar", this, end, weight);
    return this;
  }

  sqrt_(): this {
    callOp("aten::sqrt_", this);
    return this;
  }

  clamp_(min: number | null, max: number | null = null): this {
    callOp("aten::clamp_", this, min === null ? null : min, max === null ? null : max);
    return this;
  }

  copy_(source: Tensor): this {
    callOp("aten::copy_", this, source);
    return this;
  }

  zero_(): this {
    callOp("aten::zero_", this);
    return this;
  }

  fill_(value: number): this {
    callOp("aten::fill_.Scalar", this, value);
    return this;
  }

  maskedFill_(mask: Tensor, value: number): this {
    callOp("aten::masked_fill_.Scalar", this, mask, value);
    return this;
  }

  uniform_(from = 0, to = 1): this {
    callOp("aten::uniform_", this, from, to);
    return this;
  }

  normal_(mean = 0, std = 1): this {
    callOp("aten::normal_", this, mean, std);
    return this;
  }

  /** Writes values at the given indices (tensor[indices] = values). */
  indexPut_(indices: (Tensor | null)[], values: Tensor, accumulate = false): this {
    callOp("aten::index_put_", this, indices, values, accumulate);
    return this;
  }
}

/** Calls an operator that returns one tensor. */
export function callTensor(qualifiedName: string, ...args: unknown[]): Tensor {
  const self = args[0];
  const result = callOp(qualifiedName, ...args);
  // In-place operators give back their first argument's handle: keep one Tensor per handle.
  if (self instanceof Tensor && result === self.handle) return self;
  return Tensor.fromHandle(result);
}

/** Calls an operator that returns a tuple or list of tensors. */
export function callTensors(qualifiedName: string, ...args: unknown[]): Tensor[] {
  return (callOp(qualifiedName, ...args) as unknown[]).map((handle) => Tensor.fromHandle(handle));
}
