/**
 * The nets' input tensors (pad to a square, TensorFlow's legacy bilinear resize, subtract the
 * mean colour, divide by 255, planar CHW) computed separably: each source row needed is
 * interpolated horizontally once, then every output row is a vertical blend of two such rows.
 * Both passes run as WebAssembly with the same double-precision operations, in the same order,
 * as the plain TypeScript version (`squareResizeNormalizeJs` in image.ts), so the tensors are
 * bit for bit the same; they only take a fraction of the time. The output is written straight
 * into WebAssembly memory and handed to ONNX Runtime from there, without a copy.
 */
import { assemble, F64, I32, op, PAGE, V128, wasm, type WasmFunction, type WasmMemory } from './wasm.js';
import { squarePadding, type Canvas, type IntRect, type Rgb3 } from './image.js';
import type { RgbImage } from './types.js';

/**
 * hrow(src, x0s, x1s, dxs, n, fill, d0, d1, d2): n columns of one source row (tables and plane
 * pointers already advanced to the first column), one f64 per channel plane.
 * With `edges`, a column offset of -1 means the padding and reads `fill` instead; without, every
 * offset must lie inside the row (the middle of the row, where both neighbours are pixels).
 */
function hrow(edges: boolean): WasmFunction {
  const [SRC, X0, X1, DX, N, FILL, D0, D1, D2] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [I, P0, P1, OK0, OK1, W, A] = [9, 10, 11, 12, 13, 14, 15];
  const sample = (p: number, ok: number, ch: number) =>
    edges
      ? [...op.get(p), ...op.i32Load8u(ch), ...op.f64ConvertI32U, ...op.get(FILL), ...op.get(ok), ...op.select]
      : [...op.get(p), ...op.i32Load8u(ch), ...op.f64ConvertI32U];
  // d[ch] = a + (e - a) * dx, as the TypeScript version computes it
  const channel = (ch: number, dst: number) => [
    ...sample(P0, OK0, ch),
    ...op.set(A),
    ...op.get(dst),
    ...op.get(A),
    ...sample(P1, OK1, ch),
    ...op.get(A),
    ...op.f64Sub,
    ...op.get(W),
    ...op.f64Mul,
    ...op.f64Add,
    ...op.f64Store(),
  ];
  const offset = (table: number, p: number, ok: number) =>
    edges
      ? [
          ...op.get(table),
          ...op.i32Load(),
          ...op.tee(p),
          ...op.i32(0),
          ...op.i32GeS,
          ...op.set(ok),
          ...op.get(SRC),
          ...op.get(p),
          ...op.i32Add,
          ...op.set(p),
        ]
      : [...op.get(SRC), ...op.get(table), ...op.i32Load(), ...op.i32Add, ...op.set(p)];
  const bump = (l: number, by: number) => [...op.get(l), ...op.i32(by), ...op.i32Add, ...op.set(l)];
  const body = [
    ...op.block,
    ...op.get(N),
    ...op.i32Eqz,
    ...op.brIf(0),
    ...op.loop,
    ...offset(X0, P0, OK0),
    ...offset(X1, P1, OK1),
    ...op.get(DX),
    ...op.f64Load(),
    ...op.set(W),
    ...channel(0, D0),
    ...channel(1, D1),
    ...channel(2, D2),
    ...bump(X0, 4),
    ...bump(X1, 4),
    ...bump(DX, 8),
    ...bump(D0, 8),
    ...bump(D1, 8),
    ...bump(D2, 8),
    ...op.get(I),
    ...op.i32(1),
    ...op.i32Add,
    ...op.tee(I),
    ...op.get(N),
    ...op.i32LtU,
    ...op.brIf(0),
    ...op.end,
    ...op.end,
  ];
  return {
    name: edges ? 'hrowEdges' : 'hrow',
    params: [I32, I32, I32, I32, I32, F64, I32, I32, I32],
    locals: [I32, I32, I32, I32, I32, F64, F64],
    body,
  };
}

/**
 * vrow(top, bot, n, dy, mean, out): out[i] = f32((top[i] + (bot[i] - top[i]) * dy - mean) / 255),
 * two lanes at a time (n even).
 */
function vrow(): WasmFunction {
  const [TOP, BOT, N, DY, M, OUT] = [0, 1, 2, 3, 4, 5];
  const [I, T, VDY, VM, V255] = [6, 7, 8, 9, 10];
  const bump = (l: number, by: number) => [...op.get(l), ...op.i32(by), ...op.i32Add, ...op.set(l)];
  const body = [
    ...op.get(DY),
    ...op.f64x2Splat,
    ...op.set(VDY),
    ...op.get(M),
    ...op.f64x2Splat,
    ...op.set(VM),
    ...op.f64(255),
    ...op.f64x2Splat,
    ...op.set(V255),
    ...op.block,
    ...op.get(N),
    ...op.i32Eqz,
    ...op.brIf(0),
    ...op.loop,
    ...op.get(OUT),
    ...op.get(TOP),
    ...op.v128Load(),
    ...op.tee(T),
    ...op.get(BOT),
    ...op.v128Load(),
    ...op.get(T),
    ...op.f64x2Sub,
    ...op.get(VDY),
    ...op.f64x2Mul,
    ...op.f64x2Add,
    ...op.get(VM),
    ...op.f64x2Sub,
    ...op.get(V255),
    ...op.f64x2Div,
    ...op.f32x4DemoteF64x2Zero,
    ...op.v128Store64Lane(0),
    ...bump(TOP, 16),
    ...bump(BOT, 16),
    ...bump(OUT, 8),
    ...op.get(I),
    ...op.i32(2),
    ...op.i32Add,
    ...op.tee(I),
    ...op.get(N),
    ...op.i32LtU,
    ...op.brIf(0),
    ...op.end,
    ...op.end,
  ];
  return { name: 'vrow', params: [I32, I32, I32, F64, F64, I32], locals: [I32, V128, V128, V128, V128], body };
}

let compiled: object | undefined;

type Hrow = (src: number, x0s: number, x1s: number, dxs: number, n: number, fill: number, d0: number, d1: number, d2: number) => void;
interface Exports {
  hrow: Hrow;
  hrowEdges: Hrow;
  vrow(top: number, bot: number, n: number, dy: number, mean: number, out: number): void;
}

const align = (n: number) => Math.ceil(n / 64) * 64;

/**
 * One resizer per output size (416 for the detector, 112 for landmarks, 150 for face-api's
 * descriptor crop). Not re-entrant: the pipeline runs one image at a time.
 */
export class SquareResizer {
  private readonly memory: WasmMemory;
  private readonly fns: Exports;
  private readonly x0s: number;
  private readonly x1s: number;
  private readonly dxs: number;
  private readonly bufs: [number, number];
  private readonly fillRow: number;
  private readonly outPtr: number;
  private readonly src: number;
  private view: Float32Array;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 2 || size % 2) throw new RangeError(`size must be an even integer, got ${size}`);
    const n = size;
    let p = 64; // src - 1 must stay inside memory
    this.x0s = p;
    p = align(p + 4 * n);
    this.x1s = p;
    p = align(p + 4 * n);
    this.dxs = p;
    p = align(p + 8 * n);
    this.bufs = [p, align(p + 24 * n)];
    p = align(this.bufs[1] + 24 * n);
    this.fillRow = p;
    p = align(p + 24 * n);
    this.outPtr = p;
    p = align(p + 12 * n * n);
    this.src = p + 64;
    this.memory = new wasm.Memory({ initial: Math.ceil((this.src + 16 * 1024) / PAGE) });
    compiled ??= new wasm.Module(assemble([hrow(false), hrow(true), vrow()]));
    this.fns = new wasm.Instance(compiled, { env: { mem: this.memory } }).exports as unknown as Exports;
    this.view = this.output();
  }

  private output(): Float32Array {
    return new Float32Array(this.memory.buffer, this.outPtr, 3 * this.size * this.size);
  }

  /** The planar CHW tensor of the last run (a view into WebAssembly memory, valid until the next run). */
  get tensor(): Float32Array {
    if (this.view.buffer !== this.memory.buffer) this.view = this.output();
    return this.view;
  }

  private ensureRow(bytes: number): void {
    const need = this.src + bytes + 64;
    const have = this.memory.buffer.byteLength;
    if (need > have) this.memory.grow(Math.ceil((need - have) / PAGE));
  }

  /**
   * Same contract as squareResizeNormalizeJs(): pads `rect` of `img` to a square (zeros, or the
   * canvas' grey), resizes to size x size and normalises; returns the tensor.
   */
  run(img: RgbImage, rect: IntRect, centred: boolean, mean: Rgb3, canvas?: Canvas): Float32Array {
    const size = this.size;
    const { side, offsetX, offsetY } = canvas ?? squarePadding(rect.width, rect.height, centred);
    const fill = canvas?.fill ?? 0;
    const scale = side / size;
    const plane = size * size;
    this.ensureRow(rect.width * 3);
    const mem = new DataView(this.memory.buffer);
    for (let ox = 0; ox < size; ox++) {
      const sx = ox * scale;
      const x0 = Math.floor(sx);
      const c0 = x0 - offsetX;
      const c1 = Math.min(x0 + 1, side - 1) - offsetX;
      // byte offsets inside the copied row segment (which starts at rect.x), -1 in the padding
      mem.setInt32(this.x0s + 4 * ox, c0 < 0 || c0 >= rect.width ? -1 : c0 * 3, true);
      mem.setInt32(this.x1s + 4 * ox, c1 < 0 || c1 >= rect.width ? -1 : c1 * 3, true);
      mem.setFloat64(this.dxs + 8 * ox, sx - x0, true);
    }
    // columns [lo, hi) have both neighbours inside the picture: the kernel's fast path
    let lo = 0;
    while (lo < size && (mem.getInt32(this.x0s + 4 * lo, true) < 0 || mem.getInt32(this.x1s + 4 * lo, true) < 0)) lo++;
    let hi = lo;
    while (hi < size && mem.getInt32(this.x0s + 4 * hi, true) >= 0 && mem.getInt32(this.x1s + 4 * hi, true) >= 0) hi++;
    new Float64Array(this.memory.buffer, this.fillRow, 3 * size).fill(fill);
    const out = this.tensor;
    const bytes = new Uint8Array(this.memory.buffer);
    const rowBytes = rect.width * 3;
    const { data, width: iw } = img;
    const rows: [number, number] = [-1, -1];
    const lerpRow = (slot: number, cy: number) => {
      const start = ((rect.y + cy) * iw + rect.x) * 3;
      bytes.set(data.subarray(start, start + rowBytes), this.src);
      const d = this.bufs[slot]!;
      const part = (from: number, to: number, fn: Hrow) => {
        if (to > from)
          fn(
            this.src,
            this.x0s + 4 * from,
            this.x1s + 4 * from,
            this.dxs + 8 * from,
            to - from,
            fill,
            d + 8 * from,
            d + 8 * (size + from),
            d + 8 * (2 * size + from),
          );
      };
      part(0, lo, this.fns.hrowEdges);
      part(lo, hi, this.fns.hrow);
      part(hi, size, this.fns.hrowEdges);
    };
    for (let oy = 0; oy < size; oy++) {
      const sy = oy * scale;
      const y0 = Math.floor(sy);
      const dy = sy - y0;
      const y1 = Math.min(y0 + 1, side - 1);
      const cy0 = y0 - offsetY;
      const cy1 = y1 - offsetY;
      const in0 = cy0 >= 0 && cy0 < rect.height;
      const in1 = cy1 >= 0 && cy1 < rect.height;
      if (!in0 && !in1) {
        // both rows in the padding: (fill + (fill - fill) * dy - mean) / 255
        for (let c = 0; c < 3; c++) out.fill((fill - mean[c]!) / 255, c * plane + oy * size, c * plane + (oy + 1) * size);
        continue;
      }
      // two row slots; source rows only move forward, so a row is interpolated once
      let top = -1;
      let bot = -1;
      if (in0) {
        let k = rows[0] === y0 ? 0 : rows[1] === y0 ? 1 : -1;
        if (k < 0) {
          k = rows[0] === y1 ? 1 : 0;
          lerpRow(k, cy0);
          rows[k] = y0;
        }
        top = k;
      }
      if (in1) {
        let k = rows[0] === y1 ? 0 : rows[1] === y1 ? 1 : -1;
        if (k < 0) {
          k = top === 0 ? 1 : 0;
          lerpRow(k, cy1);
          rows[k] = y1;
        }
        bot = k;
      }
      const topPtr = top < 0 ? this.fillRow : this.bufs[top]!;
      const botPtr = bot < 0 ? this.fillRow : this.bufs[bot]!;
      for (let c = 0; c < 3; c++) {
        this.fns.vrow(topPtr + 8 * c * size, botPtr + 8 * c * size, size, dy, mean[c]!, this.outPtr + 4 * (c * plane + oy * size));
      }
    }
    return out;
  }
}
