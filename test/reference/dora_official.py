"""DoRA's training step as its official code (shashankvkt/DoRA_ICLR24 @0508b2c, main.py and
utils.MOT) computes it, written anew for onevideo's tests from the algorithm: given the views
and the heads, the teacher discovers and tracks the objects, the student sees each frame masked
by each object and the local crops, and the loss is DINOLoss.forward's, accidents included.
Tensors follow onevideo's layout: rows are clip-major, frame t of clip b is row b * T + t."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from vit import VisionTransformer


class DinoHead(nn.Module):
    def __init__(self, dim, out_dim, hidden, bottleneck):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.GELU(),
                                 nn.Linear(hidden, bottleneck))
        self.last_layer = nn.utils.weight_norm(nn.Linear(bottleneck, out_dim, bias=False))

    def forward(self, x):
        return self.last_layer(F.normalize(self.mlp(x), dim=-1, p=2))


class Encoder(nn.Module):
    def __init__(self, vit_args, head_args):
        super().__init__()
        self.backbone = VisionTransformer(**vit_args)
        self.head = DinoHead(**head_args)


def sinkhorn(logits, iterations, epsilon):
    """The plan [b, n, k] for scores [b, n, k], as the official SinkhornKnopp module runs it."""
    q = logits / epsilon
    q = q - q.amax(dim=(-2, -1), keepdim=True)
    q = torch.exp(q).transpose(-2, -1)  # [b, k, n]
    q = q / q.sum(dim=(-2, -1), keepdim=True)
    k, n = q.shape[1], q.shape[2]
    for _ in range(iterations):
        q = q / q.sum(dim=2, keepdim=True) / k
        q = q / q.sum(dim=1, keepdim=True) / n
    return (q * n).transpose(-2, -1)


def discover_and_mask(teacher, view, clips, frames, heads, patch, iterations, epsilon):
    """utils.MOT: masks [clips, T, k, S, S], and the teacher's head outputs per row."""
    s = view.shape[-1]
    grid = s // patch
    per_frame = view.reshape(clips, frames, *view.shape[1:])
    outputs = torch.zeros(clips, frames, teacher.head.last_layer.weight_v.shape[0], dtype=view.dtype)
    tracks = []
    for t in range(frames):
        cls, patches, attn, q, key = teacher.backbone.forward_track(per_frame[:, t])
        outputs[:, t] = teacher.head(cls)
        tracks.append((patches, attn, q, key))
    patches0, attn0, q0, _ = tracks[0]
    queries = q0[:, :, 1:, :].permute(0, 2, 1, 3).reshape(clips, grid * grid, -1)  # heads side by side
    chosen = attn0[:, heads, 0, 1:]  # [clips, k, n]
    prototypes = torch.einsum("bkn,bnd->bkd", chosen, queries)
    features = patches0 / patches0.norm(dim=-1, keepdim=True)
    plan = sinkhorn(features @ prototypes.transpose(-2, -1), iterations, epsilon)
    refined = plan.transpose(-2, -1) @ features  # [clips, k, d]
    masks = torch.zeros(clips, frames, len(heads), s, s, dtype=view.dtype)
    for t in range(frames):
        keys = tracks[t][3][:, :, 1:, :].permute(0, 2, 1, 3).reshape(clips, grid * grid, -1)
        for obj in range(len(heads)):
            maps = (refined[:, obj : obj + 1, :] @ keys.transpose(-2, -1)) * refined.shape[2] ** -0.5
            maps = maps.softmax(dim=-1).squeeze(1)
            maps = maps / maps.norm(dim=-1, keepdim=True)
            cut = (maps > maps.mean()).to(view.dtype).reshape(clips, 1, grid, grid)  # mean over the batch
            masks[:, t, obj] = F.interpolate(cut, scale_factor=patch, mode="nearest")[:, 0]
    return masks, outputs.reshape(clips * frames, -1)


def dino_loss(student_masked, student_locals, teacher, center, teacher_temp, frames, student_temp=0.1,
              quirks=True):
    """DINOLoss.forward over rows [B * T, K]: per frame 0.5 x masked term + 0.5 x local term, with
    local crop 0 skipped and frame_loss carried from one object to the next, as in the code
    (quirks=False: every local crop counts and each object's frame sum starts afresh)."""
    clips = teacher.shape[0] // frames
    by_frame = lambda x: x.reshape(clips, frames, -1).transpose(0, 1)  # [T, B, K]
    teacher = by_frame(teacher)
    masked = [by_frame(x) for x in student_masked]
    local = [by_frame(x) for x in student_locals]
    frame_loss, total = 0, 0
    for obj in range(len(masked)):
        if not quirks:
            frame_loss = 0
        for t in range(frames):
            q = F.softmax((teacher[t] - center) / teacher_temp, dim=-1)
            mask_term = torch.sum(-q * F.log_softmax(masked[obj][t] / student_temp, dim=-1), dim=-1).mean()
            local_terms = [torch.sum(-q * F.log_softmax(local[v][t] / student_temp, dim=-1), dim=-1).mean()
                           for v in range(len(local)) if v != 0 or not quirks]
            local_term = sum(local_terms) / len(local_terms)
            frame_loss = frame_loss + (mask_term + local_term) * 0.5
        frame_loss = frame_loss / frames
        total = total + frame_loss
    return total / len(masked)
