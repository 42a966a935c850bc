// An exported encoder run by onnxruntime-node, without onevideo: node onnx.mjs model.onnx
import * as ort from "onnxruntime-node";

const session = await ort.InferenceSession.create(process.argv[2]);
const images = new ort.Tensor("float32", new Float32Array(2 * 3 * 64 * 64), [2, 3, 64, 64]);
const { cls, patch_tokens, attention } = await session.run({ images });
console.log(cls.dims, patch_tokens.dims, attention.dims);
