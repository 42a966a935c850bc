// An ONNX model built node by node and written in ONNX's protobuf layout (onnx.proto's
// ModelProto, GraphProto, NodeProto, TensorProto, ValueInfoProto, AttributeProto; the field
// numbers are the published schema's), so that exporting needs no Python.
import { ProtoWriter } from "./protobuf.ts";

/** TensorProto.DataType values used here. */
export const OnnxType = { float: 1, int32: 6, int64: 7 } as const;

/** Attribute values: a number is an INT unless marked float; arrays are INTS or FLOATS. */
export type OnnxAttribute = number | { float: number } | number[] | { floats: number[] } | string;

// AttributeProto.AttributeType
const attributeType = { float: 1, int: 2, string: 3, floats: 6, ints: 7 };

function attribute(name: string, value: OnnxAttribute): ProtoWriter {
  const writer = new ProtoWriter().string(1, name);
  if (typeof value === "number") return writer.int(3, value).int(20, attributeType.int);
  if (typeof value === "string") return writer.string(4, value).int(20, attributeType.string);
  if (Array.isArray(value)) return writer.packedInts(8, value).int(20, attributeType.ints);
  if ("float" in value) return writer.float(2, value.float).int(20, attributeType.float);
  return writer.packedFloats(7, value.floats).int(20, attributeType.floats);
}

/** ValueInfoProto: a named tensor of an element type and shape (a string dimension is symbolic). */
function valueInfo(name: string, elemType: number, dims: readonly (number | string)[]): ProtoWriter {
  const shape = new ProtoWriter();
  for (const dim of dims) {
    shape.message(
      1,
      typeof dim === "number" ? new ProtoWriter().int(1, dim) : new ProtoWriter().string(2, dim),
    );
  }
  const tensorType = new ProtoWriter().int(1, elemType).message(2, shape);
  return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType));
}

export class OnnxGraph {
  private readonly nodes: ProtoWriter[] = [];
  private readonly initializers: ProtoWriter[] = [];
  private readonly inputs: ProtoWriter[] = [];
  private readonly outputs: ProtoWriter[] = [];
  private names = 0;

  /** A fresh value name. */
  private fresh(hint: string): string {
    return `${hint}_${this.names++}`;
  }

  /** A constant tensor stored in the model (weights, shapes, indices); returns its name. */
  initializer(name: string, data: Float32Array | BigInt64Array, dims: readonly number[]): string {
    const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const type = data instanceof Float32Array ? OnnxType.float : OnnxType.int64;
    this.initializers.push(new ProtoWriter().packedInts(1, dims).int(2, type).string(8, name).bytes(9, raw));
    return name;
  }

  /** An int64 vector constant (shapes, axes, indices). */
  ints(values: readonly number[], hint = "ints"): string {
    return this.initializer(this.fresh(hint), BigInt64Array.from(values.map(BigInt)), [values.length]);
  }

  /** An int64 scalar constant (a Gather index). */
  scalar(value: number, hint = "index"): string {
    return this.initializer(this.fresh(hint), BigInt64Array.of(BigInt(value)), []);
  }

  /** A float scalar constant. */
  float(value: number, hint = "float"): string {
    return this.initializer(this.fresh(hint), Float32Array.of(value), []);
  }

  /** Adds a node; returns the name of its (first) output. */
  node(
    op: string,
    inputs: readonly string[],
    attributes: Record<string, OnnxAttribute> = {},
    output?: string,
  ): string {
    const name = output ?? this.fresh(op.toLowerCase());
    const writer = new ProtoWriter();
    for (const input of inputs) writer.string(1, input);
    writer.string(2, name).string(3, `${op}_${this.nodes.length}`).string(4, op);
    for (const [key, value] of Object.entries(attributes)) writer.message(5, attribute(key, value));
    this.nodes.push(writer);
    return name;
  }

  input(name: string, dims: readonly (number | string)[], elemType: number = OnnxType.float): string {
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  /** Marks `value` as a graph output called `name` (through an Identity when they differ). */
  output(name: string, value: string, dims: readonly (number | string)[]): void {
    if (value !== name) this.node("Identity", [value], {}, name);
    this.outputs.push(valueInfo(name, OnnxType.float, dims));
  }

  /** The whole model as bytes: IR version 8, the default domain at `opset`. */
  model(options: { name: string; opset: number; producerVersion: string; docString: string }): Uint8Array {
    const graph = new ProtoWriter();
    for (const node of this.nodes) graph.message(1, node);
    graph.string(2, options.name);
    for (const initializer of this.initializers) graph.message(5, initializer);
    graph.string(10, options.docString);
    for (const input of this.inputs) graph.message(11, input);
    for (const output of this.outputs) graph.message(12, output);
    return new ProtoWriter()
      .int(1, 8)
      .string(2, "onevideo")
      .string(3, options.producerVersion)
      .message(7, graph)
      .message(8, new ProtoWriter().string(1, "").int(2, options.opset))
      .finish();
  }
}
