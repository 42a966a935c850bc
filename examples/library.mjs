// onevideo as a library: train a small DINO encoder for a few steps, then score it by k-NN.
// Run it with plain Node where onevideo is installed: node library.mjs [run folder]
import { evaluateKnn, pretrain } from "onevideo";

const out = process.argv[2] ?? "runs/library-example";
const run = await pretrain({ method: "dino", preset: "demo", dataset: "fashion-mnist", steps: 2, out });
console.log(`trained ${run.steps} steps: loss ${run.firstLoss.toFixed(3)} -> ${run.lastLoss.toFixed(3)}`);

const knn = evaluateKnn({
  checkpoint: run.runDir,
  dataset: "fashion-mnist",
  trainLimit: 500,
  testLimit: 200,
  k: 10,
});
console.log(`k-NN top-1 at k=10: ${knn.results[0].top1}% (${knn.train} -> ${knn.test})`);
