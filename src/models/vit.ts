// Vision Transformer (Dosovitskiy et al.) as DINO builds it, with DINO's parameter
// names, so official DINO/DoRA checkpoints load and our weights load in PyTorch.
import {
  DropPath,
  Dropout,
  Identity,
  LayerNorm,
  Linear,
  Module,
  ModuleList,
  Conv2d,
  init,
  GELU,
} from "../nn/index.ts";
import { cat, empty, F, linspace, type Tensor } from "../torch/index.ts";

export interface VitConfig {
  patchSize: number;
  embedDim: number;
  depth: number;
  numHeads: number;
  mlpRatio: number;
  qkvBias: boolean;
  /** Image size the position embedding is learned for; other sizes are interpolated. */
  imageSize: number;
  inChannels: number;
  dropPathRate: number;
  layerNormEps: number;
}

export const vitArchitectures = {
  // ViT-Tiny's width and heads at a third of its depth: about 3x its steps per second, the
  // size that learns within minutes on two CPU cores (the cpu presets).
  vit_nano: { embedDim: 192, depth: 4, numHeads: 3 },
  vit_tiny: { embedDim: 192, depth: 12, numHeads: 3 },
  vit_small: { embedDim: 384, depth: 12, numHeads: 6 },
  vit_base: { embedDim: 768, depth: 12, numHeads: 12 },
} as const;

export type VitArchitecture = keyof typeof vitArchitectures;

/** A named ViT (vit_nano, vit_tiny, vit_small, vit_base) with DINO's defaults, overridable. */
export function vitConfig(architecture: VitArchitecture, overrides: Partial<VitConfig> = {}): VitConfig {
  const shape = vitArchitectures[architecture];
  if (!shape)
    throw new Error(
      `unknown architecture '${architecture}'; choose one of ${Object.keys(vitArchitectures).join(", ")}`,
    );
  return {
    patchSize: 16,
    mlpRatio: 4,
    qkvBias: true,
    imageSize: 224,
    inChannels: 3,
    dropPathRate: 0,
    layerNormEps: 1e-6,
    ...shape,
    ...overrides,
  };
}

/** What one block exposes when asked: its attention weights, queries and keys. */
export interface AttentionCapture {
  /** [B, heads, tokens, tokens], softmax over the last dimension. */
  attention: Tensor;
  /** [B, heads, tokens, headDim] */
  queries: Tensor;
  keys: Tensor;
}

export interface VitOutput {
  /** The normalised [CLS] feature, [B, D]. */
  cls: Tensor;
  /** The normalised patch tokens, [B, patches, D]. */
  patchTokens: Tensor;
  /** Present when forward was asked to capture a block. */
  captured?: AttentionCapture;
}

class PatchEmbed extends Module {
  readonly proj: Conv2d;

  constructor(
    inChannels: number,
    embedDim: number,
    readonly patchSize: number,
  ) {
    super();
    this.proj = this.addModule("proj", new Conv2d(inChannels, embedDim, patchSize, { stride: patchSize }));
  }

  /** [B, C, H, W] -> [B, patches, D] */
  forward(images: Tensor): Tensor {
    using grid = this.proj.forward(images);
    using flat = grid.flatten(2);
    return flat.transpose(1, 2);
  }
}

class Attention extends Module {
  readonly qkv: Linear;
  readonly proj: Linear;
  readonly headDim: number;

  constructor(
    readonly dim: number,
    readonly numHeads: number,
    qkvBias: boolean,
  ) {
    super();
    this.headDim = dim / numHeads;
    this.qkv = this.addModule("qkv", new Linear(dim, dim * 3, { bias: qkvBias }));
    this.proj = this.addModule("proj", new Linear(dim, dim));
  }

  forward(x: Tensor, capture: boolean): { output: Tensor; captured?: AttentionCapture } {
    const [batch, tokens] = x.shape;
    using qkv = this.qkv.forward(x);
    using heads = qkv.reshape(batch, tokens, 3, this.numHeads, this.headDim).permute(2, 0, 3, 1, 4);
    const [queries, keys, values] = heads.unbind(0);
    let mixed: Tensor;
    let captured: AttentionCapture | undefined;
    if (capture) {
      using keysT = keys.transpose(-2, -1);
      using logits = queries.matmul(keysT);
      logits.mul_(this.headDim ** -0.5);
      const attention = logits.softmax(-1);
      mixed = attention.matmul(values);
      captured = { attention, queries, keys };
    } else {
      mixed = F.scaledDotProductAttention(queries, keys, values);
      queries.dispose();
      keys.dispose();
    }
    values.dispose();
    using merged = mixed.transpose(1, 2);
    mixed.dispose();
    using flat = merged.reshape(batch, tokens, this.dim);
    return { output: this.proj.forward(flat), captured };
  }
}

class Mlp extends Module {
  readonly fc1: Linear;
  readonly act: GELU;
  readonly fc2: Linear;

  constructor(dim: number, hidden: number) {
    super();
    this.fc1 = this.addModule("fc1", new Linear(dim, hidden));
    this.act = this.addModule("act", new GELU());
    this.fc2 = this.addModule("fc2", new Linear(hidden, dim));
  }

  forward(x: Tensor): Tensor {
    using hidden = this.fc1.forward(x);
    using activated = this.act.forward(hidden);
    return this.fc2.forward(activated);
  }
}

class Block extends Module {
  readonly norm1: LayerNorm;
  readonly attn: Attention;
  readonly dropPath: DropPath | Identity;
  readonly norm2: LayerNorm;
  readonly mlp: Mlp;

  constructor(config: VitConfig, dropPathRate: number) {
    super();
    this.norm1 = this.addModule("norm1", new LayerNorm(config.embedDim, config.layerNormEps));
    this.attn = this.addModule("attn", new Attention(config.embedDim, config.numHeads, config.qkvBias));
    this.dropPath = this.addModule(
      "drop_path",
      dropPathRate > 0 ? new DropPath(dropPathRate) : new Identity(),
    );
    this.norm2 = this.addModule("norm2", new LayerNorm(config.embedDim, config.layerNormEps));
    this.mlp = this.addModule("mlp", new Mlp(config.embedDim, Math.round(config.embedDim * config.mlpRatio)));
  }

  forward(x: Tensor, capture: boolean): { output: Tensor; captured?: AttentionCapture } {
    using normed1 = this.norm1.forward(x);
    const { output: attended, captured } = this.attn.forward(normed1, capture);
    using dropped1 = this.dropPath.forward(attended);
    attended.dispose();
    using residual = x.add(dropped1);
    using normed2 = this.norm2.forward(residual);
    using transformed = this.mlp.forward(normed2);
    using dropped2 = this.dropPath.forward(transformed);
    return { output: residual.add(dropped2), captured };
  }
}

export class VisionTransformer extends Module {
  readonly patchEmbed: PatchEmbed;
  readonly clsToken: Tensor;
  readonly posEmbed: Tensor;
  readonly posDrop: Dropout;
  readonly blocks: ModuleList<Block>;
  readonly norm: LayerNorm;

  constructor(readonly config: VitConfig) {
    super();
    const { embedDim, patchSize, imageSize, depth } = config;
    if (embedDim % config.numHeads !== 0)
      throw new Error(`embedDim ${embedDim} is not divisible by numHeads ${config.numHeads}`);
    if (imageSize % patchSize !== 0)
      throw new Error(`imageSize ${imageSize} is not a multiple of patchSize ${patchSize}`);
    const patches = (imageSize / patchSize) ** 2;
    this.patchEmbed = this.addModule("patch_embed", new PatchEmbed(config.inChannels, embedDim, patchSize));
    this.clsToken = this.addParameter("cls_token", init.truncNormal_(empty([1, 1, embedDim]), 0.02));
    this.posEmbed = this.addParameter(
      "pos_embed",
      init.truncNormal_(empty([1, patches + 1, embedDim]), 0.02),
    );
    this.posDrop = this.addModule("pos_drop", new Dropout(0));
    const rates = linspace(0, config.dropPathRate, depth).toArray();
    this.blocks = this.addModule("blocks", new ModuleList(rates.map((rate) => new Block(config, rate))));
    this.norm = this.addModule("norm", new LayerNorm(embedDim, config.layerNormEps));
    for (const [, module] of this.namedModules()) {
      if (module instanceof Linear) {
        init.truncNormal_(module.weight, 0.02);
        if (module.bias) init.constant_(module.bias, 0);
      }
    }
  }

  get embedDim(): number {
    return this.config.embedDim;
  }

  /** The position embedding for an image of height x width, interpolated bicubically as DINO does. */
  positionEmbedding(height: number, width: number): Tensor {
    const { patchSize } = this.config;
    const learned = this.posEmbed.size(1) - 1;
    const rows = Math.floor(height / patchSize);
    const cols = Math.floor(width / patchSize);
    if (rows * cols === learned && rows === cols) return this.posEmbed.view(...this.posEmbed.shape);
    const side = Math.round(Math.sqrt(learned));
    using clsPosition = this.posEmbed.slice(1, 0, 1);
    using patchPosition = this.posEmbed.slice(1, 1, null);
    using grid = patchPosition.reshape(1, side, side, this.embedDim).permute(0, 3, 1, 2);
    // The 0.1 offset makes the scaled size land on the intended integer (DINO's fix for rounding).
    using resized = F.interpolate(grid, {
      scaleFactor: [(rows + 0.1) / side, (cols + 0.1) / side],
      mode: "bicubic",
    });
    if (resized.size(2) !== rows || resized.size(3) !== cols) {
      throw new Error(`position embedding interpolation gave ${resized.shape}, expected ${rows}x${cols}`);
    }
    using tokens = resized.permute(0, 2, 3, 1).reshape(1, rows * cols, this.embedDim);
    return cat([clsPosition, tokens], 1);
  }

  /** Patch embedding + [CLS] + position embedding: [B, 1 + patches, D]. */
  prepareTokens(images: Tensor): Tensor {
    const [batch, , height, width] = images.shape;
    using patches = this.patchEmbed.forward(images);
    using cls = this.clsToken.expand(batch, -1, -1);
    using tokens = cat([cls, patches], 1);
    using position = this.positionEmbedding(height, width);
    using positioned = tokens.add(position);
    return this.posDrop.forward(positioned);
  }

  /**
   * Runs the encoder on [B, C, H, W] images. `captureBlock` (an index, negative from the
   * end) returns that block's attention, queries and keys.
   */
  forward(images: Tensor, options: { captureBlock?: number } = {}): VitOutput {
    const depth = this.blocks.length;
    const captureIndex = options.captureBlock === undefined ? -1 : (options.captureBlock + depth) % depth;
    let x = this.prepareTokens(images);
    let captured: AttentionCapture | undefined;
    this.blocks.items.forEach((block, index) => {
      const result = block.forward(x, index === captureIndex);
      x.dispose();
      x = result.output;
      if (result.captured) captured = result.captured;
    });
    using normed = this.norm.forward(x);
    x.dispose();
    const cls = normed.select(1, 0);
    const patchTokens = normed.slice(1, 1, null);
    return { cls, patchTokens, captured };
  }

  /** Outputs of the last n blocks' [CLS] tokens after the final norm (DINO's linear-eval features). */
  lastBlocksCls(images: Tensor, n: number): Tensor[] {
    let x = this.prepareTokens(images);
    const outputs: Tensor[] = [];
    this.blocks.items.forEach((block, index) => {
      const result = block.forward(x, false);
      x.dispose();
      x = result.output;
      if (index >= this.blocks.length - n) {
        using normed = this.norm.forward(x);
        outputs.push(normed.select(1, 0));
      }
    });
    x.dispose();
    return outputs;
  }
}

/** Builds a ViT by name, e.g. createVit("vit_small", { patchSize: 16 }). */
export function createVit(
  architecture: VitArchitecture,
  overrides: Partial<VitConfig> = {},
): VisionTransformer {
  return new VisionTransformer(vitConfig(architecture, overrides));
}
