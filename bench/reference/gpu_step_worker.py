"""The GPU benchmark's PyTorch side (bench/gpu_step.ts): one DINO or DoRA training step as
the official code runs it, at the same model sizes, views and batch as onevideo's.

DINO: main_dino.py's train_one_epoch step: teacher on the 2 global views, student on those
and the local crops (views of one size batched together, as MultiCropWrapper), DINOLoss
with the centre update, loss.item(), backward, per-parameter clipping, AdamW with DINO's two
parameter groups, EMA of the teacher. DoRA: the teacher's last-block [CLS] attention of k
chosen heads in each clip's first frame weights that frame's queries into prototypes,
Sinkhorn-Knopp refines them, each frame's keys track them (softmax over patches), masks are
thresholded at their mean and upsampled; the student sees the k masked views and the local
crops, and matches the teacher's output on the unmasked view.

The views arrive ready-made as random tensors of the right sizes: no augmentation is timed
here (onevideo crops and distorts on the device inside its step), so the ratio is an upper
bound on onevideo's overhead. Forward and loss run under torch.autocast when the
precision is bf16; the loss is taken in fp32, as onevideo does.

argv[1]: the job as JSON (bench/gpu_step.ts). After the warm-up steps it prints a ready
line; each 'run K' line on stdin is answered with one JSON line {step_ms, peak_mem_mb, ...}.
Running out of memory is answered with {"oom": true}, and the worker ends."""
import json
import math
import os
import random
import re
import resource
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "test", "reference"))
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import vit  # noqa: E402

job = json.loads(sys.argv[1])
device = torch.device(job["device"])
on_cuda = device.type == "cuda"
torch.set_num_threads(job["threads"])
torch.manual_seed(job["seed"])
random.seed(job["seed"])
# torch>=2.0's fused attention, as onevideo uses libtorch 2's (test/reference/vit.py spells it out).
fused_attention = hasattr(F, "scaled_dot_product_attention")
# torch.cuda.OutOfMemoryError (a RuntimeError) and cuBLAS/cuDNN allocation failures: try a smaller batch.
OUT_OF_MEMORY = re.compile(r"out of memory|ALLOC_FAILED|can't allocate memory|not enough memory", re.I)


def reply(value):
    print(json.dumps(value), flush=True)


def out_of_memory_hook(kind, error, traceback):
    """Running out of memory anywhere (setup, warm-up, a run) is an answer: {"oom": true}."""
    if isinstance(error, RuntimeError) and OUT_OF_MEMORY.search(str(error)):
        reply({"oom": True, "error": str(error).splitlines()[0]})
    else:
        sys.__excepthook__(kind, error, traceback)


sys.excepthook = out_of_memory_hook


class Attention(vit.Attention):
    """The reference attention; asked to capture, it also returns the attention, queries and
    keys (DoRA's teacher), computed explicitly as onevideo does for that block."""

    def forward(self, x, capture=False):
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        if capture or not fused_attention:
            attention = ((q @ k.transpose(-2, -1)) * (c // self.heads) ** -0.5).softmax(-1)
            mixed = attention @ v
        else:
            mixed = F.scaled_dot_product_attention(q, k, v)
        output = self.proj(mixed.transpose(1, 2).reshape(b, n, c))
        return (output, (attention, q, k)) if capture else output


class Block(vit.Block):
    """The reference block with DINO's stochastic depth (the student's drop path)."""

    def __init__(self, drop_path):
        super().__init__(job["dim"], job["heads"], job["mlpRatio"], True, 1e-6)
        self.attn = Attention(job["dim"], job["heads"], True)
        self.drop_path = drop_path

    def drop(self, x):
        if not self.training or self.drop_path == 0:
            return x
        keep = 1 - self.drop_path
        mask = (keep + torch.rand((x.shape[0], 1, 1), dtype=x.dtype, device=x.device)).floor_()
        return x.div(keep) * mask

    def forward(self, x, capture=False):
        attended = self.attn(self.norm1(x), capture)
        captured = None
        if capture:
            attended, captured = attended
        x = x + self.drop(attended)
        x = x + self.drop(self.mlp(self.norm2(x)))
        return (x, captured) if capture else x


def backbone(drop_path_rate):
    model = vit.VisionTransformer(image_size=job["imageSize"], patch=job["patchSize"], dim=job["dim"],
                                  depth=job["depth"], heads=job["heads"], mlp_ratio=job["mlpRatio"])
    rates = torch.linspace(0, drop_path_rate, job["depth"]).tolist()
    model.blocks = nn.ModuleList([Block(rate) for rate in rates])
    return model


def backbone_with_capture(model, x, block_index):
    """vit.VisionTransformer.forward that also returns one block's attention, queries, keys."""
    b, _, h, w = x.shape
    tokens = torch.cat((model.cls_token.expand(b, -1, -1), model.patch_embed(x)), dim=1)
    tokens = tokens + model.position_embedding(h, w)
    captured = None
    for index, block in enumerate(model.blocks):
        if index == block_index:
            tokens, captured = block(tokens, capture=True)
        else:
            tokens = block(tokens)
    tokens = model.norm(tokens)
    return tokens[:, 0], tokens[:, 1:], captured


class WeightNormLinear(nn.Module):
    """torch.nn.utils.weight_norm(nn.Linear(.., bias=False)) without the deprecated hook."""

    def __init__(self, in_dim, out_dim):
        super().__init__()
        direction = nn.Linear(in_dim, out_dim, bias=False).weight.detach()
        self.weight_g = nn.Parameter(torch.ones(out_dim, 1))
        self.weight_v = nn.Parameter(direction.clone())

    def forward(self, x):
        return F.linear(x, torch._weight_norm(self.weight_v, self.weight_g, 0))


class DinoHead(nn.Module):
    """DINO's head: 3-layer MLP with GELU, bottleneck, L2 normalisation, weight-normed last
    layer whose norm is trained (norm_last_layer False)."""

    def __init__(self):
        super().__init__()
        dim, hidden, bottleneck = job["dim"], job["headHiddenDim"], job["bottleneckDim"]
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.GELU(),
                                 nn.Linear(hidden, bottleneck))
        self.last_layer = WeightNormLinear(bottleneck, job["outDim"])

    def forward(self, x):
        return self.last_layer(F.normalize(self.mlp(x), dim=-1, p=2))


class Encoder(nn.Module):
    """DINO's MultiCropWrapper: consecutive views of one size go through the backbone together."""

    def __init__(self, drop_path_rate):
        super().__init__()
        self.backbone = backbone(drop_path_rate)
        self.head = DinoHead()

    def forward(self, views):
        features = []
        start = 0
        while start < len(views):
            end = start + 1
            while end < len(views) and views[end].shape[-1] == views[start].shape[-1]:
                end += 1
            features.append(self.backbone(torch.cat(views[start:end]))[0])
            start = end
        return self.head(torch.cat(features)).chunk(len(views))


class DinoLoss:
    def __init__(self):
        self.center = torch.zeros(1, job["outDim"], device=device)

    def __call__(self, student_outputs, teacher_outputs, skip_same_view=True):
        student = [F.log_softmax(output.float() / job["studentTemperature"], dim=-1) for output in student_outputs]
        teacher = [F.softmax((output.float() - self.center) / job["teacherTemperature"], dim=-1).detach()
                   for output in teacher_outputs]
        terms = [torch.sum(-target * log_probs, dim=-1).mean()
                 for t, target in enumerate(teacher) for s, log_probs in enumerate(student)
                 if not (skip_same_view and s == t)]
        return sum(terms) / len(terms)

    @torch.no_grad()
    def update_center(self, teacher_outputs):
        outputs = torch.cat(teacher_outputs).float()
        batch_center = outputs.sum(dim=0, keepdim=True) / len(outputs)
        momentum = job["centerMomentum"]
        self.center = self.center * momentum + batch_center * (1 - momentum)


student = Encoder(job["dropPathRate"]).to(device)
teacher = Encoder(0.0).to(device)
teacher.load_state_dict(student.state_dict())
for parameter in teacher.parameters():
    parameter.requires_grad = False
dino_loss = DinoLoss()
decayed, undecayed = [], []
for name, parameter in student.named_parameters():
    if parameter.requires_grad:
        (undecayed if name.endswith(".bias") or parameter.ndim == 1 else decayed).append(parameter)
optimizer = torch.optim.AdamW([{"params": decayed, "weight_decay": job["weightDecay"]},
                               {"params": undecayed, "weight_decay": 0.0}], lr=job["lr"])


def autocast():
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=job["precision"] == "bf16")


batch, size, local_size = job["batch"], job["imageSize"], job["localCropSize"]
local_views = [torch.randn(batch, 3, local_size, local_size, device=device) for _ in range(job["localCrops"])]


def views(count):
    return [torch.randn(batch, 3, size, size, device=device) for _ in range(count)]


if job["method"] == "dino":
    global_views = views(2)

    def forward_loss():
        with autocast():
            teacher_outputs = teacher(global_views)
            student_outputs = student(global_views + local_views)
            loss = dino_loss(student_outputs, teacher_outputs)
            dino_loss.update_center(teacher_outputs)
        return loss
else:
    # One crop per clip seen twice: the teacher's distortion and the student's.
    teacher_view, student_view = views(2)
    frames = job["clipLength"]
    clips = batch // frames
    patch = job["patchSize"]
    rows = cols = size // patch
    patches = rows * cols
    dim = job["dim"]
    block_index = job["attentionBlock"] % job["depth"]
    objects = job["objects"]

    def sinkhorn(scores):
        """Log-domain Sinkhorn-Knopp with uniform marginals: each prototype N/k of the mass."""
        log = scores.float() / job["sinkhornEpsilon"]
        row_mass = math.log(scores.shape[-1] / scores.shape[-2])
        for _ in range(job["sinkhornIterations"]):
            log = log - log.logsumexp(-1, keepdim=True) + row_mass
            log = log - log.logsumexp(-2, keepdim=True)
        return log.exp()

    @torch.no_grad()
    def discover(heads):
        cls, patch_tokens, (attention, queries, keys) = backbone_with_capture(teacher.backbone, teacher_view,
                                                                              block_index)

        def first_frames(t):
            return t.view(clips, frames, *t.shape[1:])[:, 0]

        def by_patch(t):  # [n, heads, tokens, head_dim] -> [n, patches, dim]
            return t[:, :, 1:].permute(0, 2, 1, 3).reshape(-1, patches, dim)

        index = torch.tensor(heads, device=device)
        cls_attention = first_frames(attention)[:, :, 0, 1:].index_select(1, index)  # [clips, k, N]
        unit = F.normalize(first_frames(patch_tokens), p=2, dim=-1)
        prototypes = cls_attention @ first_frames(by_patch(queries))
        prototypes = sinkhorn(prototypes @ unit.transpose(-2, -1)) @ unit  # [clips, k, D]
        logits = prototypes.unsqueeze(1) @ by_patch(keys).view(clips, frames, patches, dim).transpose(-2, -1)
        maps = (logits.float() * dim ** -0.5).softmax(-1)  # [clips, T, k, N]
        masks = (maps > maps.mean(-1, keepdim=True)).float()
        masks = F.interpolate(masks.reshape(-1, 1, rows, cols), size=(size, size), mode="nearest")
        return masks.view(clips, frames, objects, size, size), teacher.head(cls)

    def forward_loss():
        heads = random.sample(range(job["heads"]), objects)
        with autocast():
            masks, teacher_output = discover(heads)
            masked = [student_view * masks[:, :, o].reshape(batch, 1, size, size) for o in range(objects)]
            if job["maskedViewSize"] != size:
                masked = [F.interpolate(view, size=job["maskedViewSize"], mode="bilinear", align_corners=False)
                          for view in masked]
            outputs = student(masked + local_views)
            loss = dino_loss(outputs[:objects], [teacher_output], skip_same_view=False)
            mask_weight, local_weight = job["maskLossWeight"], job["localLossWeight"]
            if local_views and local_weight > 0:
                local_loss = dino_loss(outputs[objects:], [teacher_output], skip_same_view=False)
                loss = (mask_weight * loss + local_weight * local_loss) / (mask_weight + local_weight)
            dino_loss.update_center([teacher_output])
        return loss


def step():
    loss = forward_loss()
    value = loss.item()  # DINO checks it is finite here; onevideo reads it once the step is queued
    optimizer.zero_grad()
    loss.backward()
    for parameter in student.parameters():  # DINO's clip_gradients: each parameter on its own
        if parameter.grad is not None:
            coefficient = job["clipGrad"] / (parameter.grad.norm(2).item() + 1e-6)
            if coefficient < 1:
                parameter.grad.mul_(coefficient)
    optimizer.step()
    with torch.no_grad():
        momentum = job["teacherMomentum"]
        for source, target in zip(student.parameters(), teacher.parameters()):
            target.mul_(momentum).add_((1 - momentum) * source.detach())
    return value


for _ in range(job["warmup"]):
    step()
reply({"ready": True, "torch": torch.__version__, "fused_attention": fused_attention,
       "device_name": torch.cuda.get_device_name(device) if on_cuda else "cpu",
       "parameters": sum(parameter.numel() for parameter in student.parameters())})
for line in sys.stdin:
    count = int(line.split()[1])
    if on_cuda:
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    for _ in range(count):
        loss = step()
    if on_cuda:
        torch.cuda.synchronize(device)
    elapsed = (time.perf_counter() - start) * 1000 / count
    if on_cuda:
        peak, memory = torch.cuda.max_memory_allocated(device) / 2**20, "gpu"
    else:
        peak, memory = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "rss"
    reply({"step_ms": elapsed, "peak_mem_mb": peak, "memory": memory, "loss": loss})
