"""The VADeR benchmark's PyTorch side: the same network (torchvision's ResNet with the FPN
decoder of test/reference/dense_reference.py) and the same step: online encoder on view A,
momentum encoder on view B, P pairs per image, InfoNCE against a queue, SGD, EMA, enqueue.
The views arrive ready (no augmentation here). Reads 'run K' lines on stdin, answers one
JSON line per request."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "test", "reference"))
import copy  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from dense_reference import ResNetDenseEncoder  # noqa: E402

config = json.loads(sys.argv[1])
torch.set_num_threads(config["threads"])
torch.manual_seed(0)
size, batch, pairs, dim = config["imageSize"], config["batch"], config["pairs"], config["embeddingDim"]
online = ResNetDenseEncoder(config["arch"], dim=dim)
momentum = copy.deepcopy(online).eval()
for parameter in momentum.parameters():
    parameter.requires_grad_(False)
optimizer = torch.optim.SGD(online.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
queue = F.normalize(torch.randn(config["queueLength"], dim), dim=1)
pointer = 0
view_a = torch.rand(batch, 3, size, size)
view_b = torch.rand(batch, 3, size, size)
cells = (size // 4) ** 2
indices = torch.randint(0, cells, (batch, pairs))
grid = torch.rand(batch, pairs, 1, 2) * 2 - 1


def step():
    global pointer
    a = online(view_a)[0].flatten(2)  # [N, D, cells]
    with torch.no_grad():
        b = momentum(view_b)[0]
    queries = a.gather(2, indices.unsqueeze(1).expand(-1, dim, -1)).transpose(1, 2).reshape(-1, dim)
    sampled = F.grid_sample(b, grid, mode="bilinear", padding_mode="border", align_corners=False)
    keys = F.normalize(sampled.squeeze(3).transpose(1, 2).reshape(-1, dim), dim=1)
    logits = torch.cat([(queries * keys).sum(1, keepdim=True), queries @ queue.clone().t()], 1) / 0.07
    loss = F.cross_entropy(logits, torch.zeros(len(queries), dtype=torch.long))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    with torch.no_grad():
        for target, source in zip(momentum.parameters(), online.parameters()):
            target.lerp_(source, 0.001)
        count = len(keys)
        end = min(pointer + count, len(queue))
        queue[pointer:end] = keys[: end - pointer]
        pointer = end % len(queue)


print(json.dumps({"ready": True, "torch": torch.__version__}), flush=True)
for line in sys.stdin:
    count = int(line.split()[1])
    start = time.perf_counter()
    for _ in range(count):
        step()
    print(json.dumps({"step_ms": (time.perf_counter() - start) * 1000 / count}), flush=True)
