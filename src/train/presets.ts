// Named option sets under a method's defaults: "demo" sizes each method for two CPU cores
// and a few minutes of training (the demo command, the real-run tests, the benchmarks).
// A config file and flags still override them.

const dinoDemo = {
  arch: "vit_tiny",
  patchSize: 8,
  imageSize: 64,
  localCrops: 2,
  localCropSize: 32,
  outDim: 256,
  headHiddenDim: 512,
  bottleneckDim: 128,
  batchSize: 16,
  steps: 150,
  // At this scale frames look alike at initialisation (cosine 0.99 between [CLS] features);
  // higher rates or a softer teacher drift to the uniform collapse, so the teacher is sharper.
  lr: 0.0005,
  warmupEpochs: 1,
  minLr: 1e-5,
  teacherTemperature: 0.02,
  warmupTeacherTemperature: 0.02,
  teacherMomentum: 0.996,
  freezeLastLayerEpochs: 1,
  clipSpacing: 8,
  clipLength: 8,
  logEvery: 10,
  checkpointEvery: 50,
};

export const demoPresets = {
  dino: dinoDemo,
  // The same network and 16 frames per batch, as 4 clips of 4 frames.
  dora: { ...dinoDemo, batchSize: 4, clipLength: 4 },
  vader: {
    arch: "resnet18",
    imageSize: 64,
    batchSize: 16,
    // 8 batches of 16 images x 32 pairs.
    queueLength: 4096,
    // MoCo's 0.03 as the step's own rate: scaled down to a batch of 16 (0.002) it barely
    // moves a network from scratch in 150 steps.
    lr: 0.48,
    steps: 150,
    clipSpacing: 8,
    clipLength: 8,
    logEvery: 10,
    checkpointEvery: 50,
  },
};

export const presetNames = ["demo"] as const;
