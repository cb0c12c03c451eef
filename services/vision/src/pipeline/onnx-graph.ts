/**
 * A small builder for static-shape ONNX graphs (opset 13) on top of onnx-proto's generated
 * protobuf classes. It knows just the operators the face nets need.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

const FLOAT = 1;
const INT64 = 7;

/** TensorFlow 'SAME' padding for one spatial axis: [before, after]. Extra padding goes after. */
export function tfSamePads(inSize: number, kernel: number, stride: number): [number, number] {
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + kernel - inSize, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** Output size of a convolution or pool with explicit pads. */
export function convOutSize(inSize: number, kernel: number, stride: number, padBefore: number, padAfter: number): number {
  return Math.floor((inSize + padBefore + padAfter - kernel) / stride) + 1;
}

type Attr = number | number[] | string;

export class GraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private counter = 0;

  constructor(private readonly name: string) {}

  private fresh(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  constant(name: string, data: Float32Array, dims: number[]): string {
    const unique = this.fresh(name);
    this.initializers.push({
      name: unique,
      dataType: FLOAT,
      dims,
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    });
    return unique;
  }

  int64s(name: string, values: number[]): string {
    const unique = this.fresh(name);
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.initializers.push({ name: unique, dataType: INT64, dims: [values.length], rawData: new Uint8Array(data.buffer) });
    return unique;
  }

  op(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, outName = opType.toLowerCase()): string {
    const output = this.fresh(outName);
    const attribute: onnxProto.onnx.IAttributeProto[] = Object.entries(attrs).map(([name, v]) => {
      if (typeof v === 'string') return { name, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(v) };
      if (Array.isArray(v)) return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: v };
      if (Number.isInteger(v) && name !== 'alpha') return { name, type: onnx.AttributeProto.AttributeType.INT, i: v };
      return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: v };
    });
    this.nodes.push({ opType, input: inputs, output: [output], attribute, name: output });
    return output;
  }

  conv(
    x: string,
    weight: { data: Float32Array; dims: number[] },
    bias: Float32Array | null,
    opts: { stride?: number; pads?: [number, number, number, number]; group?: number },
  ): string {
    const w = this.constant('w', weight.data, weight.dims);
    const inputs = [x, w];
    if (bias) inputs.push(this.constant('b', bias, [bias.length]));
    const [kh, kw] = [weight.dims[2]!, weight.dims[3]!];
    return this.op('Conv', inputs, {
      kernel_shape: [kh, kw],
      strides: [opts.stride ?? 1, opts.stride ?? 1],
      pads: opts.pads ?? [0, 0, 0, 0],
      group: opts.group ?? 1,
      dilations: [1, 1],
    });
  }

  /** Zero padding of an NCHW tensor: pads = [n0, c0, h0, w0, n1, c1, h1, w1]. */
  pad(x: string, pads: number[]): string {
    return this.op('Pad', [x, this.int64s('pads', pads)], { mode: 'constant' });
  }

  encode(input: { name: string; dims: number[] }, output: { name: string; dims: number[] }): Uint8Array {
    const valueInfo = (name: string, dims: number[]): onnxProto.onnx.IValueInfoProto => ({
      name,
      type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
    });
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'faceline',
      opsetImport: [{ domain: '', version: 13 }],
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: [valueInfo(input.name, input.dims)],
        output: [valueInfo(output.name, output.dims)],
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }

  /** Renames the last node's output so it becomes the graph output. */
  markOutput(tensor: string, name: string): void {
    for (const n of this.nodes) {
      n.output = n.output!.map((o) => (o === tensor ? name : o));
      n.input = n.input!.map((i) => (i === tensor ? name : i));
    }
  }
}
