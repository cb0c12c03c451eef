/**
 * The three face-api networks rebuilt as ONNX graphs from face-api's own weight files, layer for
 * layer as face-api's TensorFlow.js code runs them (see @vladmandic/face-api/src: tinyYolov2,
 * faceFeatureExtractor, faceRecognitionNet). Shapes are static; pre- and post-processing are in JS.
 */
import { GraphBuilder, convOutSize, tfSamePads } from './onnx-graph.js';
import { depthwiseToOnnx, getWeight, hwioToOihw, type WeightMap } from './weights.js';

export const DETECTOR_INPUT = 416;
export const DETECTOR_GRID = 13;
export const LANDMARK_INPUT = 112;
export const RECOGNITION_INPUT = 150;

export interface BuiltNet {
  bytes: Uint8Array;
  input: string;
  output: string;
  inputDims: number[];
}

/** TF 'SAME' pads for a square input, in ONNX order [top, left, bottom, right]. */
function samePads4(size: number, kernel: number, stride: number): [number, number, number, number] {
  const [a, b] = tfSamePads(size, kernel, stride);
  return [a, a, b, b];
}

/**
 * Tiny face detector (face-api TinyFaceDetector: separable-conv tiny YOLOv2, 13x13 grid, 5 anchors).
 * Input: [1,3,416,416], already (rgb - meanRgb) / 255. Output: [1,25,13,13].
 */
export function buildDetector(w: WeightMap): BuiltNet {
  const g = new GraphBuilder('tiny_face_detector');
  let size = DETECTOR_INPUT;
  const leaky = (x: string) => g.op('LeakyRelu', [x], { alpha: 0.1 });
  const maxPool = (x: string, stride: number) => {
    // tf.maxPool(2x2, 'same'): odd sizes (and stride 1) get one padded row/column after.
    const [a, b] = tfSamePads(size, 2, stride);
    size = convOutSize(size, 2, stride, a, b);
    return g.op('MaxPool', [x], { kernel_shape: [2, 2], strides: [stride, stride], pads: [a, a, b, b] });
  };
  const sepConv = (x: string, prefix: string) => {
    // face-api pads by 1 and runs the separable conv 'valid': 3x3, stride 1.
    const dw = depthwiseToOnnx(getWeight(w, `${prefix}/depthwise_filter`, 4));
    let out = g.conv(x, dw, null, { pads: [1, 1, 1, 1], group: dw.dims[0] });
    out = g.conv(out, hwioToOihw(getWeight(w, `${prefix}/pointwise_filter`, 4)), getWeight(w, `${prefix}/bias`, 1).data, {});
    return leaky(out);
  };

  let x = 'input';
  x = leaky(g.conv(x, hwioToOihw(getWeight(w, 'conv0/filters', 4)), getWeight(w, 'conv0/bias', 1).data, {}));
  size = convOutSize(size, 3, 1, 0, 0);
  x = maxPool(x, 2);
  for (const [i, stride] of [
    [1, 2],
    [2, 2],
    [3, 2],
    [4, 2],
    [5, 1],
  ] as const) {
    x = sepConv(x, `conv${i}`);
    x = maxPool(x, stride);
  }
  x = g.conv(x, hwioToOihw(getWeight(w, 'conv8/filters', 4)), getWeight(w, 'conv8/bias', 1).data, {});
  if (size !== DETECTOR_GRID) throw new Error(`detector grid ${size}, expected ${DETECTOR_GRID}`);
  g.markOutput(x, 'output');
  const inputDims = [1, 3, DETECTOR_INPUT, DETECTOR_INPUT];
  return {
    bytes: g.encode({ name: 'input', dims: inputDims }, { name: 'output', dims: [1, 25, size, size] }),
    input: 'input',
    output: 'output',
    inputDims,
  };
}

/**
 * 68-point landmark net (face-api FaceLandmark68Net: four dense blocks of separable convs, avg pool, fc).
 * Input: [1,3,112,112], (rgb - meanRgb) / 255. Output: [1,136] relative (x,y) pairs in the padded square.
 */
export function buildLandmarkNet(w: WeightMap): BuiltNet {
  const g = new GraphBuilder('face_landmark_68');
  let size = LANDMARK_INPUT;
  const sep = (x: string, prefix: string, stride: number, inSize: number) => {
    const pads = samePads4(inSize, 3, stride);
    const dw = depthwiseToOnnx(getWeight(w, `${prefix}/depthwise_filter`, 4));
    const out = g.conv(x, dw, null, { stride, pads, group: dw.dims[0] });
    return g.conv(out, hwioToOihw(getWeight(w, `${prefix}/pointwise_filter`, 4)), getWeight(w, `${prefix}/bias`, 1).data, {});
  };
  const add = (a: string, b: string) => g.op('Add', [a, b]);
  const relu = (a: string) => g.op('Relu', [a]);
  const denseBlock4 = (x: string, prefix: string, first: boolean) => {
    const inSize = size;
    size = Math.ceil(size / 2);
    const out1 = relu(
      first
        ? g.conv(x, hwioToOihw(getWeight(w, `${prefix}/conv0/filters`, 4)), getWeight(w, `${prefix}/conv0/bias`, 1).data, {
            stride: 2,
            pads: samePads4(inSize, 3, 2),
          })
        : sep(x, `${prefix}/conv0`, 2, inSize),
    );
    const out2 = sep(out1, `${prefix}/conv1`, 1, size);
    const in3 = relu(add(out1, out2));
    const out3 = sep(in3, `${prefix}/conv2`, 1, size);
    const in4 = relu(add(out1, add(out2, out3)));
    const out4 = sep(in4, `${prefix}/conv3`, 1, size);
    return relu(add(out1, add(out2, add(out3, out4))));
  };
  let x = 'input';
  x = denseBlock4(x, 'dense0', true);
  x = denseBlock4(x, 'dense1', false);
  x = denseBlock4(x, 'dense2', false);
  x = denseBlock4(x, 'dense3', false);
  // avgPool 7x7 stride 2 'valid' on the 7x7 map = global average.
  x = g.op('AveragePool', [x], { kernel_shape: [7, 7], strides: [2, 2] });
  x = g.op('Flatten', [x], { axis: 1 });
  const fcW = getWeight(w, 'fc/weights', 2);
  x = g.op('MatMul', [x, g.constant('fc_w', fcW.data, fcW.shape)]);
  const fcB = getWeight(w, 'fc/bias', 1);
  x = g.op('Add', [x, g.constant('fc_b', fcB.data, fcB.shape)]);
  g.markOutput(x, 'output');
  const inputDims = [1, 3, LANDMARK_INPUT, LANDMARK_INPUT];
  return {
    bytes: g.encode({ name: 'input', dims: inputDims }, { name: 'output', dims: [1, 136] }),
    input: 'input',
    output: 'output',
    inputDims,
  };
}

/**
 * Recognition net (face-api FaceRecognitionNet, dlib's ResNet-34-like metric net).
 * Input: [1,3,150,150], (rgb - meanRgb) / 255. Output: [1,128] raw descriptor.
 */
export function buildRecognitionNet(w: WeightMap): BuiltNet {
  const g = new GraphBuilder('face_recognition');
  // conv + bias followed by the per-channel scale layer (x * s + t) folds into one conv.
  const convLayer = (x: string, prefix: string, stride: number, pads: [number, number, number, number], relu: boolean) => {
    const filt = getWeight(w, `${prefix}/conv/filters`, 4);
    const bias = getWeight(w, `${prefix}/conv/bias`, 1).data;
    const s = getWeight(w, `${prefix}/scale/weights`, 1).data;
    const t = getWeight(w, `${prefix}/scale/biases`, 1).data;
    const wt = hwioToOihw(filt);
    const per = wt.data.length / s.length;
    const folded = new Float32Array(wt.data.length);
    for (let o = 0; o < s.length; o++) for (let k = 0; k < per; k++) folded[o * per + k] = wt.data[o * per + k]! * s[o]!;
    const fb = new Float32Array(s.length);
    for (let o = 0; o < s.length; o++) fb[o] = bias[o]! * s[o]! + t[o]!;
    const out = g.conv(x, { data: folded, dims: wt.dims }, fb, { stride, pads });
    return relu ? g.op('Relu', [out]) : out;
  };
  let size = RECOGNITION_INPUT;
  let channels = 3;
  const residual = (x: string, prefix: string) => {
    let out = convLayer(x, `${prefix}/conv1`, 1, [1, 1, 1, 1], true);
    out = convLayer(out, `${prefix}/conv2`, 1, [1, 1, 1, 1], false);
    return g.op('Relu', [g.op('Add', [out, x])]);
  };
  const residualDown = (x: string, prefix: string) => {
    const outChannels = getWeight(w, `${prefix}/conv1/conv/filters`, 4).shape[3]!;
    let out = convLayer(x, `${prefix}/conv1`, 2, [0, 0, 0, 0], true);
    const convSize = convOutSize(size, 3, 2, 0, 0);
    out = convLayer(out, `${prefix}/conv2`, 1, [1, 1, 1, 1], false);
    let pooled = g.op('AveragePool', [x], { kernel_shape: [2, 2], strides: [2, 2] });
    const poolSize = convOutSize(size, 2, 2, 0, 0);
    if (poolSize !== convSize) {
      // face-api appends one zero row and column to the conv branch when the sizes differ.
      const d = poolSize - convSize;
      out = g.pad(out, [0, 0, 0, 0, 0, 0, d, d]);
    }
    if (outChannels !== channels) pooled = g.pad(pooled, [0, 0, 0, 0, 0, outChannels - channels, 0, 0]);
    size = poolSize;
    channels = outChannels;
    return g.op('Relu', [g.op('Add', [pooled, out])]);
  };

  let x = convLayer('input', 'conv32_down', 2, [0, 0, 0, 0], true);
  size = convOutSize(size, 7, 2, 0, 0);
  channels = 32;
  x = g.op('MaxPool', [x], { kernel_shape: [3, 3], strides: [2, 2] });
  size = convOutSize(size, 3, 2, 0, 0);
  x = residual(x, 'conv32_1');
  x = residual(x, 'conv32_2');
  x = residual(x, 'conv32_3');
  x = residualDown(x, 'conv64_down');
  x = residual(x, 'conv64_1');
  x = residual(x, 'conv64_2');
  x = residual(x, 'conv64_3');
  x = residualDown(x, 'conv128_down');
  x = residual(x, 'conv128_1');
  x = residual(x, 'conv128_2');
  x = residualDown(x, 'conv256_down');
  x = residual(x, 'conv256_1');
  x = residual(x, 'conv256_2');
  x = residualDown(x, 'conv256_down_out');
  x = g.op('GlobalAveragePool', [x]);
  x = g.op('Flatten', [x], { axis: 1 });
  const fc = getWeight(w, 'fc', 2);
  x = g.op('MatMul', [x, g.constant('fc', fc.data, fc.shape)]);
  g.markOutput(x, 'output');
  const inputDims = [1, 3, RECOGNITION_INPUT, RECOGNITION_INPUT];
  return {
    bytes: g.encode({ name: 'input', dims: inputDims }, { name: 'output', dims: [1, 128] }),
    input: 'input',
    output: 'output',
    inputDims,
  };
}
