// The bundled default: a real street video from Debian's opencv-doc, and the DINO demo preset
// sized for two CPU cores. The demo command, the benchmarks and the real-run tests use it.
import { dinoDemoPreset } from "../methods/dino.ts";

export const demoVideo = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";

/** The demo's options: DINO's demo preset on the demo video. */
export const demoOptions = { method: "dino", video: demoVideo, ...dinoDemoPreset };
