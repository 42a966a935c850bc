// DINO's loss: cross-entropy between the teacher's centred, sharpened distribution on
// each global view and the student's distribution on every other view. The centre is
// an exponential moving average of the teacher's outputs; it, with sharpening, is what
// keeps the teacher from collapsing.
import { keep, noGrad, stack, type Tensor, zeros } from "../torch/index.ts";
import type { DataParallel } from "../train/data_parallel.ts";

export interface DinoLossOptions {
  outDim: number;
  studentTemperature: number;
  centerMomentum: number;
}

export interface CollapseSignals {
  /** Mean entropy of the teacher's per-sample distributions (nats), a scalar on the device. */
  teacherEntropy: Tensor;
  /** KL divergence of the teacher's mean distribution from uniform (nats): log K when collapsed to one prototype. */
  teacherKlToUniform: Tensor;
}

export class DinoLoss {
  readonly center: Tensor;

  constructor(readonly options: DinoLossOptions) {
    this.center = keep(zeros([1, options.outDim]));
  }

  /**
   * studentOutputs: one [B, K] tensor per student view; teacherOutputs: one [B, K] per
   * teacher view, where teacher view i and student view i are the same crop (skipped,
   * unless `skipSameView` is false: DoRA's students never see the teacher's own view).
   */
  forward(
    studentOutputs: Tensor[],
    teacherOutputs: Tensor[],
    teacherTemperature: number,
    skipSameView = true,
  ): Tensor {
    const terms = this.terms(studentOutputs, teacherOutputs, teacherTemperature, skipSameView);
    if (terms.length === 0)
      throw new Error("DINO loss needs a student view that differs from each teacher view");
    using stacked = stack(terms);
    for (const t of terms) t.dispose();
    return stacked.mean();
  }

  /** The loss's cross-entropy terms, one per (teacher view, student view) pair in that order, each a batch mean. */
  terms(
    studentOutputs: Tensor[],
    teacherOutputs: Tensor[],
    teacherTemperature: number,
    skipSameView = true,
  ): Tensor[] {
    const { studentTemperature } = this.options;
    // In fp32 whatever autocast computed the heads in: a sharp teacher (T = 0.04) over
    // 65536 prototypes would round to one-hot in bf16, and the centre drifts by 1e-3 steps.
    const studentLogProbs = studentOutputs.map((output) => {
      using exact = output.atLeastFloat32();
      using scaled = exact.div(studentTemperature);
      return scaled.logSoftmax(-1);
    });
    const teacherProbs = noGrad(() =>
      teacherOutputs.map((output) => {
        using exact = output.atLeastFloat32();
        using centered = exact.sub(this.center);
        using scaled = centered.div(teacherTemperature);
        return scaled.softmax(-1);
      }),
    );
    const terms: Tensor[] = [];
    teacherProbs.forEach((target, teacherView) =>
      studentLogProbs.forEach((logProbs, studentView) => {
        if (skipSameView && studentView === teacherView) return;
        using product = target.mul(logProbs);
        using perSample = product.sum(-1);
        using mean = perSample.mean();
        terms.push(mean.neg());
      }),
    );
    for (const t of [...studentLogProbs, ...teacherProbs]) t.dispose();
    return terms;
  }

  /** Moves the centre towards the mean of the teacher outputs over the whole (all ranks') batch. */
  updateCenter(teacherOutputs: Tensor[], parallel?: DataParallel): void {
    noGrad(() => {
      const rows = teacherOutputs.reduce((count, output) => count + output.size(0), 0);
      const sums = teacherOutputs.map((output) => output.float().sum(0, true));
      const batchCenter = sums.reduce((a, b) => a.add(b)).div(rows);
      parallel?.averageInPlace([batchCenter]);
      this.center.mul_(this.options.centerMomentum).add_(batchCenter, 1 - this.options.centerMomentum);
    });
  }

  /** Entropy and KL-to-uniform of the teacher's sharpened distributions, to watch for collapse. */
  collapseSignals(teacherOutputs: Tensor[], teacherTemperature: number): CollapseSignals {
    return noGrad(() => {
      // [views, B, K] in fp32 whatever precision the heads ran in.
      using outputs = stack(teacherOutputs).float();
      using probs = outputs.sub(this.center).div(teacherTemperature).softmax(-1);
      using logProbs = probs.clampMin(1e-12).log();
      using average = probs.mean([0, 1]);
      using averageLog = average.clampMin(1e-12).log();
      using averageEntropy = average.mul(averageLog).sum();
      return {
        teacherEntropy: probs.mul(logProbs).sum(-1).mean().neg(),
        teacherKlToUniform: averageEntropy.add(Math.log(this.options.outDim)),
      };
    });
  }
}
