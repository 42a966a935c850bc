// Shots as the report and analysis.json list them: first and last frame in the source
// video's frame numbering, and the times they start and end, so shots tile the video.

export interface Shot {
  start_frame: number;
  /** The shot's last frame (inclusive). */
  end_frame: number;
  /** Seconds: start_frame / fps. */
  start_time: number;
  /** Seconds: the moment the shot ends, (end_frame + 1) / fps. */
  end_time: number;
}

const seconds = (frames: number, fps: number) => +(frames / fps).toFixed(3);

/** The shots of a video of `frameCount` frames cut before each frame in `cutFrames` (ascending, > 0). */
export function shotsFromCuts(cutFrames: number[], frameCount: number, fps: number): Shot[] {
  const starts = [0, ...cutFrames];
  return starts.map((start, index) => {
    const end = (starts[index + 1] ?? frameCount) - 1;
    return {
      start_frame: start,
      end_frame: end,
      start_time: seconds(start, fps),
      end_time: seconds(end + 1, fps),
    };
  });
}

/** Each shot's length in seconds. */
export function shotLengths(shots: Shot[]): number[] {
  return shots.map((shot) => +(shot.end_time - shot.start_time).toFixed(3));
}
