// Smooth random curves for the camera and the light: a sum of a few slow sinusoids with
// random periods and phases. Analytic, so any time can be evaluated (and integrated)
// without stepping through the ones before it.
import type { Random } from "../../util/random.ts";

export class SmoothCurve {
  private readonly amplitudes: number[] = [];
  private readonly omegas: number[] = [];
  private readonly phases: number[] = [];
  private readonly norm: number;

  /** Periods drawn in [minPeriod, maxPeriod] seconds. */
  constructor(random: Random, minPeriod: number, maxPeriod: number, terms = 3) {
    for (let k = 0; k < terms; k++) {
      this.amplitudes.push(random.uniform(0.5, 1));
      this.omegas.push((2 * Math.PI) / random.uniform(minPeriod, maxPeriod));
      this.phases.push(random.uniform(0, 2 * Math.PI));
    }
    this.norm = this.amplitudes.reduce((sum, a) => sum + a, 0);
  }

  /** The curve at time t, in [-1, 1]. */
  value(t: number): number {
    let sum = 0;
    for (let k = 0; k < this.amplitudes.length; k++)
      sum += this.amplitudes[k] * Math.sin(this.omegas[k] * t + this.phases[k]);
    return sum / this.norm;
  }

  /** The integral of value() from 0 to t. */
  integral(t: number): number {
    let sum = 0;
    for (let k = 0; k < this.amplitudes.length; k++) {
      const phase = this.phases[k];
      sum += (this.amplitudes[k] * (Math.cos(phase) - Math.cos(this.omegas[k] * t + phase))) / this.omegas[k];
    }
    return sum / this.norm;
  }
}
