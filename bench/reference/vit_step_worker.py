"""The engine benchmark's PyTorch side: the same ViT training step, timed on request.
Reads 'run K' lines on stdin, answers one JSON line per request."""
import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "test", "reference"))
import torch  # noqa: E402
from vit import VisionTransformer  # noqa: E402

config = json.loads(sys.argv[1])
torch.set_num_threads(config["threads"])
torch.manual_seed(0)
model = VisionTransformer(image_size=config["imageSize"], patch=config["patchSize"], dim=config["dim"],
                          depth=config["depth"], heads=config["heads"])
head = torch.nn.Linear(config["dim"], config["classes"])
optimizer = torch.optim.AdamW(list(model.parameters()) + list(head.parameters()), lr=1e-4)
device = torch.device(config["device"])
model.to(device)
head.to(device)
images = torch.randn(config["batch"], 3, config["imageSize"], config["imageSize"], device=device)
labels = torch.randint(0, config["classes"], (config["batch"],), device=device)


def step():
    cls, _ = model(images)
    loss = torch.nn.functional.cross_entropy(head(cls), labels)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


print(json.dumps({"ready": True, "torch": torch.__version__}), flush=True)
for line in sys.stdin:
    count = int(line.split()[1])
    start = time.perf_counter()
    for _ in range(count):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    elapsed = (time.perf_counter() - start) * 1000 / count
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"step_ms": elapsed, "peak_rss_mb": peak}), flush=True)
