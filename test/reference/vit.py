"""A reference ViT in python3-torch with DINO's parameter names, written for onevideo's
tests and benchmarks: the TypeScript model must compute the same numbers."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class PatchEmbed(nn.Module):
    def __init__(self, in_chans, dim, patch):
        super().__init__()
        self.proj = nn.Conv2d(in_chans, dim, kernel_size=patch, stride=patch)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class Attention(nn.Module):
    def __init__(self, dim, heads, qkv_bias):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, track=False):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q @ k.transpose(-2, -1)) * (c // self.heads) ** -0.5
        attn = attn.softmax(dim=-1)
        out = self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))
        return (out, attn, q, k) if track else out


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio, qkv_bias, eps):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = Attention(dim, heads, qkv_bias)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x, track=False):
        if not track:
            x = x + self.attn(self.norm1(x))
            return x + self.mlp(self.norm2(x))
        y, attn, q, k = self.attn(self.norm1(x), track=True)
        x = x + y
        return x + self.mlp(self.norm2(x)), attn, q, k


class VisionTransformer(nn.Module):
    def __init__(self, image_size=224, patch=16, dim=384, depth=12, heads=6, mlp_ratio=4.0,
                 qkv_bias=True, eps=1e-6, in_chans=3):
        super().__init__()
        self.patch = patch
        patches = (image_size // patch) ** 2
        self.patch_embed = PatchEmbed(in_chans, dim, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, patches + 1, dim))
        self.blocks = nn.ModuleList([Block(dim, heads, mlp_ratio, qkv_bias, eps) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=eps)

    def position_embedding(self, h, w):
        learned = self.pos_embed.shape[1] - 1
        rows, cols = h // self.patch, w // self.patch
        if rows * cols == learned and rows == cols:
            return self.pos_embed
        side = int(math.sqrt(learned))
        grid = self.pos_embed[:, 1:].reshape(1, side, side, -1).permute(0, 3, 1, 2)
        grid = F.interpolate(grid, scale_factor=((rows + 0.1) / side, (cols + 0.1) / side), mode="bicubic")
        tokens = grid.permute(0, 2, 3, 1).reshape(1, rows * cols, -1)
        return torch.cat((self.pos_embed[:, :1], tokens), dim=1)

    def forward(self, x):
        b, _, h, w = x.shape
        tokens = torch.cat((self.cls_token.expand(b, -1, -1), self.patch_embed(x)), dim=1)
        tokens = tokens + self.position_embedding(h, w)
        for block in self.blocks:
            tokens = block(tokens)
        tokens = self.norm(tokens)
        return tokens[:, 0], tokens[:, 1:]

    def forward_track(self, x):
        """The [CLS] feature and patch tokens (normalised), and the last block's attention, queries
        and keys [b, heads, tokens, head dim], as DoRA's teacher hands them to its tracker."""
        b, _, h, w = x.shape
        tokens = torch.cat((self.cls_token.expand(b, -1, -1), self.patch_embed(x)), dim=1)
        tokens = tokens + self.position_embedding(h, w)
        for block in self.blocks[:-1]:
            tokens = block(tokens)
        tokens, attn, q, k = self.blocks[-1](tokens, track=True)
        tokens = self.norm(tokens)
        return tokens[:, 0], tokens[:, 1:], attn, q, k
