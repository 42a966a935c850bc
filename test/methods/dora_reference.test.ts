// DoRA's step against a python3-torch reading of its official code (test/reference/dora_official.py),
// on the same views, heads and weights, in float64 so that what is compared is the computation:
// the masks agree exactly (with 2 clips, so the threshold's mean over the batch matters), the
// loss and every gradient of the student to 1e-9, with the official loss's accidents and without.
import assert from "node:assert/strict";
import { test } from "node:test";
import { DoraMethod, type DoraConfig, officialObjectWeights } from "../../src/methods/dora.ts";
import { resolveConfig } from "../../src/pretrain/pretrain.ts";
import { manualSeed, rand, type Tensor } from "../../src/torch/index.ts";
import { Random } from "../../src/util/random.ts";
import { maxAbsDiff, runTorch } from "../helpers/python.ts";

const tiny = {
  method: "dora",
  video: "clip.mp4",
  arch: "vit_tiny",
  patchSize: 8,
  imageSize: 32,
  clipCropSize: 40,
  localCrops: 3,
  localCropSize: 16,
  outDim: 64,
  headHiddenDim: 32,
  bottleneckDim: 16,
  clipLength: 3,
  objects: 2,
  dropPathRate: 0,
};

function relative(actual: Tensor, expected: Tensor): number {
  const scale = expected.abs().max().item();
  return maxAbsDiff(actual, expected) / (scale || 1);
}

for (const quirks of [true, false]) {
  test(`DoRA's step equals the official code's${quirks ? "" : " without its loss accidents"}: masks, loss, gradients`, () => {
    const config = resolveConfig({ ...tiny, officialLossQuirks: quirks }) as DoraConfig;
    manualSeed(4);
    const method = new DoraMethod(config);
    const clips = 2;
    const frames = rand([clips * config.clipLength, 3, 48, 56]);
    const views = method.clipViews(frames, new Random(9)); // cut in float32, compared in float64
    method.student.to("float64");
    method.teacher.to("float64");
    const wide = (view: Tensor) => view.to("float64");
    const views64 = {
      teacherView: wide(views.teacherView),
      studentView: wide(views.studentView),
      heads: views.heads,
      locals: views.locals.map(wide),
    };
    const temperature = method.teacherTemperatureAt(0);
    const inputs = new Map<string, Tensor>([["view", views64.teacherView]]);
    views64.locals.forEach((local, i) => inputs.set(`local.${i}`, local));
    for (const [name, tensor] of method.student.stateDict()) inputs.set(`student.${name}`, tensor.detach());
    for (const [name, tensor] of method.teacher.stateDict()) inputs.set(`teacher.${name}`, tensor.detach());
    const reference = runTorch(
      `
import dora_official
vit = dict(image_size=32, patch=8, dim=192, depth=12, heads=3)
head = dict(dim=192, out_dim=64, hidden=32, bottleneck=16)
student = dora_official.Encoder(vit, head).double()
teacher = dora_official.Encoder(vit, head).double()
student.load_state_dict({k[8:]: v for k, v in inputs.items() if k.startswith("student.")}, strict=True)
teacher.load_state_dict({k[8:]: v for k, v in inputs.items() if k.startswith("teacher.")}, strict=True)
with torch.no_grad():
    masks, teacher_out = dora_official.discover_and_mask(teacher, inputs["view"], ${clips}, ${config.clipLength},
                                                         ${JSON.stringify(views.heads)}, 8, 30, 0.05)
masked = [student.head(student.backbone(inputs["view"] * masks[:, :, j].reshape(-1, 1, 32, 32))[0])
          for j in range(${config.objects})]
locals_ = [student.head(student.backbone(inputs["local.%d" % i])[0]) for i in range(${config.localCrops})]
loss = dora_official.dino_loss(masked, locals_, teacher_out, torch.zeros(1, 64, dtype=torch.float64),
                               ${temperature}, ${config.clipLength}, quirks=${quirks ? "True" : "False"})
loss.backward()
outputs["masks"] = masks
outputs["loss"] = loss.detach().reshape(1)
for name, parameter in student.named_parameters():
    outputs["grad." + name] = parameter.grad
`,
      inputs,
    );
    const result = method.stepOnViews(views64, clips, { epoch: 0 }); // it takes the views
    const masks = method.lastDiscovery!.masks;
    assert.deepEqual(masks.shape, reference.get("masks")!.shape);
    assert.equal(maxAbsDiff(masks, reference.get("masks")!), 0, "masks");
    const area = masks.mean().item();
    assert.ok(area > 0.1 && area < 0.9, `masks cover ${area}`);
    const loss = result.loss;
    assert.ok(
      relative(loss.reshape(1), reference.get("loss")!) < 1e-10,
      `loss ${loss.item()} vs ${reference.get("loss")!.item()}`,
    );
    loss.backward();
    for (const [name, parameter] of method.student.namedParameters()) {
      const expected = reference.get(`grad.${name}`)!;
      assert.ok(parameter.grad, `${name} has a gradient`);
      const difference = relative(parameter.grad, expected);
      assert.ok(difference < 1e-9, `grad ${name}: relative difference ${difference}`);
    }
  });
}

test("the official loss weighs earlier objects more: 1 + 1/T + 1/T^2 for the first of 3", () => {
  const [first, second, third] = officialObjectWeights(3, 8);
  assert.ok(Math.abs(first - (1 + 1 / 8 + 1 / 64)) < 1e-15);
  assert.ok(Math.abs(second - (1 + 1 / 8)) < 1e-15);
  assert.equal(third, 1);
  assert.deepEqual(officialObjectWeights(1, 8), [1]);
});
