// DINO's ViT as an ONNX graph, the same computation as VisionTransformer.forward in evaluation
// mode: input a float32 NCHW batch of normalised images of the side chosen at export (the
// batch is dynamic; the position embedding is interpolated for that side once, here, as DINO
// does it at run time); outputs the normalised [CLS] feature [batch, dim], the patch tokens
// [batch, patches, dim] and, on request, the last block's [CLS] attention [batch, heads, patches].
// Operators of opset 17 (LayerNormalization), which onnxruntime-web runs.
import type { VisionTransformer } from "../models/vit.ts";
import { noGrad, type Tensor } from "../torch/index.ts";
import { OnnxGraph } from "./onnx_graph.ts";

export const vitOnnxOpset = 17;

function floats(tensor: Tensor): Float32Array {
  return Float32Array.from(tensor.detach().float().contiguous().data() as Float32Array);
}

export interface VitOnnxOptions {
  imageSize: number;
  /** Add the last block's [CLS] attention over the patches as a third output. */
  attention: boolean;
  producerVersion: string;
  docString: string;
}

export function vitToOnnx(vit: VisionTransformer, options: VitOnnxOptions): Uint8Array {
  const { patchSize, embedDim: dim, numHeads: heads, layerNormEps: epsilon } = vit.config;
  const side = options.imageSize;
  if (side % patchSize !== 0)
    throw new Error(`image size ${side} is not a multiple of the patch ${patchSize}`);
  const patches = (side / patchSize) ** 2;
  const tokens = patches + 1;
  const headDim = dim / heads;
  const weights = vit.stateDict();
  const g = new OnnxGraph();
  const weight = (name: string, transpose = false) => {
    const tensor = weights.get(name);
    if (!tensor) throw new Error(`the ViT has no ${name}`);
    const stored = transpose ? tensor.t() : tensor;
    const name_ = g.initializer(name, floats(stored), stored.shape);
    if (transpose) stored.dispose();
    return name_;
  };
  const linear = (x: string, prefix: string) => {
    const product = g.node("MatMul", [x, weight(`${prefix}.weight`, true)]);
    return weights.has(`${prefix}.bias`) ? g.node("Add", [product, weight(`${prefix}.bias`)]) : product;
  };
  const layerNorm = (x: string, prefix: string) =>
    g.node("LayerNormalization", [x, weight(`${prefix}.weight`), weight(`${prefix}.bias`)], {
      axis: -1,
      epsilon: { float: epsilon },
    });

  const images = g.input("images", ["batch", 3, side, side]);
  // Patch embedding: a strided convolution, then [batch, dim, patches] -> [batch, patches, dim].
  const grid = g.node("Conv", [images, weight("patch_embed.proj.weight"), weight("patch_embed.proj.bias")], {
    kernel_shape: [patchSize, patchSize],
    strides: [patchSize, patchSize],
  });
  const flat = g.node("Reshape", [grid, g.ints([0, dim, -1], "shape")]);
  const patchEmbeddings = g.node("Transpose", [flat], { perm: [0, 2, 1] });
  // The [CLS] token, one per image of the batch.
  const batch = g.node("Slice", [g.node("Shape", [images]), g.ints([0]), g.ints([1])]);
  const clsShape = g.node("Concat", [batch, g.ints([1, dim])], { axis: 0 });
  const cls = g.node("Expand", [weight("cls_token"), clsShape]);
  const joined = g.node("Concat", [cls, patchEmbeddings], { axis: 1 });
  const position = noGrad(() => vit.positionEmbedding(side, side));
  let x = g.node("Add", [joined, g.initializer("pos_embed", floats(position), position.shape)]);
  position.dispose();

  let lastAttention = "";
  vit.blocks.items.forEach((_, index) => {
    const prefix = `blocks.${index}`;
    // Attention: q, k, v from one product, heads split out, softmax(q k^T / sqrt(head dim)) v.
    const qkv = linear(layerNorm(x, `${prefix}.norm1`), `${prefix}.attn.qkv`);
    const split = g.node(
      "Transpose",
      [g.node("Reshape", [qkv, g.ints([0, 0, 3, heads, headDim], "shape")])],
      {
        perm: [2, 0, 3, 1, 4],
      },
    );
    const [q, k, v] = [0, 1, 2].map((i) => g.node("Gather", [split, g.scalar(i)], { axis: 0 }));
    const scores = g.node("Mul", [
      g.node("MatMul", [q, g.node("Transpose", [k], { perm: [0, 1, 3, 2] })]),
      g.float(headDim ** -0.5, "scale"),
    ]);
    const attention = g.node("Softmax", [scores], { axis: -1 });
    lastAttention = attention;
    const mixed = g.node("Reshape", [
      g.node("Transpose", [g.node("MatMul", [attention, v])], { perm: [0, 2, 1, 3] }),
      g.ints([0, 0, dim], "shape"),
    ]);
    x = g.node("Add", [x, linear(mixed, `${prefix}.attn.proj`)]);
    // MLP with the exact GELU: x * (1 + erf(x / sqrt 2)) / 2.
    const hidden = linear(layerNorm(x, `${prefix}.norm2`), `${prefix}.mlp.fc1`);
    const erf = g.node("Erf", [g.node("Mul", [hidden, g.float(Math.SQRT1_2, "inv_sqrt2")])]);
    const gelu = g.node("Mul", [
      g.node("Mul", [hidden, g.node("Add", [erf, g.float(1, "one")])]),
      g.float(0.5, "half"),
    ]);
    x = g.node("Add", [x, linear(gelu, `${prefix}.mlp.fc2`)]);
  });
  const normed = layerNorm(x, "norm");
  g.output("cls", g.node("Gather", [normed, g.scalar(0)], { axis: 1 }), ["batch", dim]);
  g.output("patch_tokens", g.node("Slice", [normed, g.ints([1]), g.ints([tokens]), g.ints([1])]), [
    "batch",
    patches,
    dim,
  ]);
  if (options.attention) {
    // The [CLS] query's row of the last block's attention, over the patches (DINO's maps).
    const clsRow = g.node("Gather", [lastAttention, g.scalar(0)], { axis: 2 });
    g.output("attention", g.node("Slice", [clsRow, g.ints([1]), g.ints([tokens]), g.ints([2])]), [
      "batch",
      heads,
      patches,
    ]);
  }
  return g.model({
    name: "onevideo_vit",
    opset: vitOnnxOpset,
    producerVersion: options.producerVersion,
    docString: options.docString,
  });
}
