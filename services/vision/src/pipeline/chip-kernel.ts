/**
 * The aligned 150x150 face chip in one pass: bilinear sampling through the similarity transform
 * (warpBilinear), the recognition net's normalised CHW tensor (normalizeToChw), and the grey
 * image, validity mask and sums behind sharpness and brightness (cropStats). Same double-precision
 * operations in the same order as those TypeScript functions, so the chip, the tensor and the
 * quality figures are bit for bit the same; the tensor stays in WebAssembly memory and goes to
 * ONNX Runtime from there.
 */
import { assemble, F64, I32, op, PAGE, wasm, type Bytes, type ValType, type WasmFunction, type WasmMemory } from './wasm.js';
import type { Affine, Rgb3 } from './image.js';
import type { RgbImage } from './types.js';

/** Numbers local variables as they are declared. */
class Locals {
  readonly types: ValType[] = [];
  constructor(private readonly params: number) {}
  add(t: ValType): number {
    this.types.push(t);
    return this.params + this.types.length - 1;
  }
}

const f64ConvertI32S: Bytes = [0xb7];
const f64Floor: Bytes = [0x9c];
const f64Min: Bytes = [0xa4];
const f64Max: Bytes = [0xa5];
const f64Ge: Bytes = [0x66];
const f64Le: Bytes = [0x65];
// plain truncation: the operand is clamped to [-2, w + 1] first, so it cannot trap
const i32TruncF64S: Bytes = [0xaa];
const i32And: Bytes = [0x71];
const i32Store8: Bytes = [0x3a, 0, 0];
const i32Ne: Bytes = [0x47];

/**
 * warp(src, rw, rx, ry, w, h, a, b, c, d, e, f, size, rgb, chw, grey, valid, mr, mg, mb, res)
 * `src` holds the picture's rows ry.. and columns rx.. (rw wide): every pixel the chip samples.
 * Writes the f32 chip (interleaved), the normalised f32 CHW tensor, the f32 grey image, the u8
 * validity mask, and at `res` the sum of grey over valid pixels (f64) and their count (f64).
 */
function warp(): WasmFunction {
  const [SRC, RW, RX, RY, W, H, A, B, C, D, E, F, SIZE, RGB, CHW, GREY, VALID, MR, MG, MB, RES] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
  ] as const;
  const l = new Locals(21);
  const [U, V, K, PLANE] = [l.add(I32), l.add(I32), l.add(I32), l.add(I32)];
  const f = () => l.add(F64);
  const i = () => l.add(I32);
  const [UF, VF, SX, SY, FX, FY, WA, WB, WC, WD, WM1, HM1] = [f(), f(), f(), f(), f(), f(), f(), f(), f(), f(), f(), f()];
  const [X0, Y0, PA, PB, PC, PD, OKA, OKB, OKC, OKD, INX0, INX1, INY0, INY1, INSIDE] = [
    i(),
    i(),
    i(),
    i(),
    i(),
    i(),
    i(),
    i(),
    i(),
    i(),
    i(),
    i(),
    i(),
    i(),
    i(),
  ];
  const [GSUM, NVALID, GREYV] = [f(), f(), f()];
  const VALS = [f(), f(), f()] as const;
  const means = [MR, MG, MB] as const;

  // address of pixel (x0 + dx, y0 + dy) in the region
  const address = (dx: number, dy: number): Bytes => [
    ...op.get(SRC),
    ...op.get(Y0),
    ...op.i32(dy),
    ...op.i32Add,
    ...op.get(RY),
    ...op.i32Sub,
    ...op.get(RW),
    ...op.i32Mul,
    ...op.get(X0),
    ...op.i32(dx),
    ...op.i32Add,
    ...op.get(RX),
    ...op.i32Sub,
    ...op.i32Add,
    ...op.i32(3),
    ...op.i32Mul,
    ...op.i32Add,
  ];
  // the same, or src when that corner is not sampled
  const corner = (dx: number, dy: number, ok: number, target: number): Bytes => [
    ...address(dx, dy),
    ...op.get(SRC),
    ...op.get(ok),
    ...op.select,
    ...op.set(target),
  ];
  const term = (p: number, weight: number, ok: number, ch: number): Bytes => [
    ...op.get(p),
    ...op.i32Load8u(ch),
    ...op.f64ConvertI32U,
    ...op.get(weight),
    ...op.f64Mul,
    ...op.f64(0),
    ...op.get(ok),
    ...op.select,
  ];
  const plain = (p: number, weight: number, at: number): Bytes => [
    ...op.get(p),
    ...op.i32Load8u(at),
    ...op.f64ConvertI32U,
    ...op.get(weight),
    ...op.f64Mul,
  ];
  // (pa ? data*wa : 0) + (pb ? ... : 0) + (pc ...) + (pd ...); the chip holds float32, so everything after reads the rounded value
  const edgeSum = (ch: number): Bytes => [
    ...term(PA, WA, OKA, ch),
    ...term(PB, WB, OKB, ch),
    ...op.f64Add,
    ...term(PC, WC, OKC, ch),
    ...op.f64Add,
    ...term(PD, WD, OKD, ch),
    ...op.f64Add,
    ...op.f32DemoteF64,
    ...op.f64PromoteF32,
    ...op.set(VALS[ch as 0 | 1 | 2]),
  ];
  // all four neighbours inside the picture: pb = pa + 3, pc = pa + one row, pd = pc + 3
  const innerSum = (ch: number): Bytes => [
    ...plain(PA, WA, ch),
    ...plain(PA, WB, ch + 3),
    ...op.f64Add,
    ...plain(PC, WC, ch),
    ...op.f64Add,
    ...plain(PC, WD, ch + 3),
    ...op.f64Add,
    ...op.f32DemoteF64,
    ...op.f64PromoteF32,
    ...op.set(VALS[ch as 0 | 1 | 2]),
  ];
  const store = (ch: number): Bytes => [
    ...op.get(RGB),
    ...op.get(K),
    ...op.i32(12),
    ...op.i32Mul,
    ...op.i32Add,
    ...op.get(VALS[ch as 0 | 1 | 2]),
    ...op.f32DemoteF64,
    ...op.f32Store(4 * ch),
    ...op.get(CHW),
    ...op.get(K),
    ...op.i32(2),
    ...op.i32Shl,
    ...op.i32Add,
    ...(ch ? [...op.get(PLANE), ...(ch === 2 ? [...op.get(PLANE), ...op.i32Add] : []), ...op.i32Add] : []),
    ...op.get(VALS[ch as 0 | 1 | 2]),
    ...op.get(means[ch as 0 | 1 | 2]),
    ...op.f64Sub,
    ...op.f64(255),
    ...op.f64Div,
    ...op.f32DemoteF64,
    ...op.f32Store(),
  ];
  const body: Bytes = [
    ...op.get(SIZE),
    ...op.get(SIZE),
    ...op.i32Mul,
    ...op.i32(2),
    ...op.i32Shl,
    ...op.set(PLANE),
    ...op.get(W),
    ...op.i32(1),
    ...op.i32Sub,
    ...f64ConvertI32S,
    ...op.set(WM1),
    ...op.get(H),
    ...op.i32(1),
    ...op.i32Sub,
    ...f64ConvertI32S,
    ...op.set(HM1),
    ...op.block,
    ...op.get(SIZE),
    ...op.i32Eqz,
    ...op.brIf(0),
    ...op.loop, // v
    ...op.get(V),
    ...f64ConvertI32S,
    ...op.set(VF),
    ...op.i32(0),
    ...op.set(U),
    ...op.loop, // u
    ...op.get(U),
    ...f64ConvertI32S,
    ...op.set(UF),
    ...op.get(A),
    ...op.get(UF),
    ...op.f64Mul,
    ...op.get(B),
    ...op.get(VF),
    ...op.f64Mul,
    ...op.f64Add,
    ...op.get(C),
    ...op.f64Add,
    ...op.set(SX),
    ...op.get(D),
    ...op.get(UF),
    ...op.f64Mul,
    ...op.get(E),
    ...op.get(VF),
    ...op.f64Mul,
    ...op.f64Add,
    ...op.get(F),
    ...op.f64Add,
    ...op.set(SY),
    // floor, clamped first so that far-away samples cannot overflow the integer maths
    ...op.get(SX),
    ...op.get(WM1),
    ...op.f64(2),
    ...op.f64Add,
    ...f64Min,
    ...op.f64(-2),
    ...f64Max,
    ...f64Floor,
    ...i32TruncF64S,
    ...op.set(X0),
    ...op.get(SY),
    ...op.get(HM1),
    ...op.f64(2),
    ...op.f64Add,
    ...f64Min,
    ...op.f64(-2),
    ...f64Max,
    ...f64Floor,
    ...i32TruncF64S,
    ...op.set(Y0),
    ...op.get(SX),
    ...op.get(X0),
    ...f64ConvertI32S,
    ...op.f64Sub,
    ...op.set(FX),
    ...op.get(SY),
    ...op.get(Y0),
    ...f64ConvertI32S,
    ...op.f64Sub,
    ...op.set(FY),
    ...op.f64(1),
    ...op.get(FX),
    ...op.f64Sub,
    ...op.f64(1),
    ...op.get(FY),
    ...op.f64Sub,
    ...op.f64Mul,
    ...op.set(WA),
    ...op.get(FX),
    ...op.f64(1),
    ...op.get(FY),
    ...op.f64Sub,
    ...op.f64Mul,
    ...op.set(WB),
    ...op.f64(1),
    ...op.get(FX),
    ...op.f64Sub,
    ...op.get(FY),
    ...op.f64Mul,
    ...op.set(WC),
    ...op.get(FX),
    ...op.get(FY),
    ...op.f64Mul,
    ...op.set(WD),
    ...op.get(X0),
    ...op.i32(0),
    ...op.i32GeS,
    ...op.get(Y0),
    ...op.i32(0),
    ...op.i32GeS,
    ...i32And,
    ...op.get(X0),
    ...op.i32(1),
    ...op.i32Add,
    ...op.get(W),
    ...op.i32LtS,
    ...i32And,
    ...op.get(Y0),
    ...op.i32(1),
    ...op.i32Add,
    ...op.get(H),
    ...op.i32LtS,
    ...i32And,
    ...op.if,
    ...address(0, 0),
    ...op.set(PA),
    ...op.get(PA),
    ...op.get(RW),
    ...op.i32(3),
    ...op.i32Mul,
    ...op.i32Add,
    ...op.set(PC),
    ...innerSum(0),
    ...innerSum(1),
    ...innerSum(2),
    ...op.else,
    // warpBilinear: nothing at all when x0 < -1, y0 < -1, x0 >= w or y0 >= h; else each corner inside the picture
    ...op.get(X0),
    ...op.i32(-1),
    ...op.i32GeS,
    ...op.get(Y0),
    ...op.i32(-1),
    ...op.i32GeS,
    ...i32And,
    ...op.get(X0),
    ...op.get(W),
    ...op.i32LtS,
    ...i32And,
    ...op.get(Y0),
    ...op.get(H),
    ...op.i32LtS,
    ...i32And,
    ...op.set(INSIDE),
    ...op.get(X0),
    ...op.i32(0),
    ...op.i32GeS,
    ...op.set(INX0),
    ...op.get(X0),
    ...op.i32(1),
    ...op.i32Add,
    ...op.get(W),
    ...op.i32LtS,
    ...op.set(INX1),
    ...op.get(Y0),
    ...op.i32(0),
    ...op.i32GeS,
    ...op.set(INY0),
    ...op.get(Y0),
    ...op.i32(1),
    ...op.i32Add,
    ...op.get(H),
    ...op.i32LtS,
    ...op.set(INY1),
    ...op.get(INSIDE),
    ...op.get(INX0),
    ...i32And,
    ...op.get(INY0),
    ...i32And,
    ...op.set(OKA),
    ...op.get(INSIDE),
    ...op.get(INX1),
    ...i32And,
    ...op.get(INY0),
    ...i32And,
    ...op.set(OKB),
    ...op.get(INSIDE),
    ...op.get(INX0),
    ...i32And,
    ...op.get(INY1),
    ...i32And,
    ...op.set(OKC),
    ...op.get(INSIDE),
    ...op.get(INX1),
    ...i32And,
    ...op.get(INY1),
    ...i32And,
    ...op.set(OKD),
    ...corner(0, 0, OKA, PA),
    ...corner(1, 0, OKB, PB),
    ...corner(0, 1, OKC, PC),
    ...corner(1, 1, OKD, PD),
    ...edgeSum(0),
    ...edgeSum(1),
    ...edgeSum(2),
    ...op.end,
    ...store(0),
    ...store(1),
    ...store(2),
    // grey (BT.601) as cropStats computes it, from the float32 chip
    ...op.f64(0.299),
    ...op.get(VALS[0]),
    ...op.f64Mul,
    ...op.f64(0.587),
    ...op.get(VALS[1]),
    ...op.f64Mul,
    ...op.f64Add,
    ...op.f64(0.114),
    ...op.get(VALS[2]),
    ...op.f64Mul,
    ...op.f64Add,
    ...op.set(GREYV),
    ...op.get(GREY),
    ...op.get(K),
    ...op.i32(2),
    ...op.i32Shl,
    ...op.i32Add,
    ...op.get(GREYV),
    ...op.f32DemoteF64,
    ...op.f32Store(),
    // valid: the sample lies inside the picture
    ...op.get(VALID),
    ...op.get(K),
    ...op.i32Add,
    ...op.get(SX),
    ...op.f64(0),
    ...f64Ge,
    ...op.get(SY),
    ...op.f64(0),
    ...f64Ge,
    ...i32And,
    ...op.get(SX),
    ...op.get(WM1),
    ...f64Le,
    ...i32And,
    ...op.get(SY),
    ...op.get(HM1),
    ...f64Le,
    ...i32And,
    ...op.tee(INSIDE),
    ...i32Store8,
    ...op.get(INSIDE),
    ...op.if,
    ...op.get(GSUM),
    ...op.get(GREYV),
    ...op.f64Add,
    ...op.set(GSUM),
    ...op.get(NVALID),
    ...op.f64(1),
    ...op.f64Add,
    ...op.set(NVALID),
    ...op.end,
    ...op.get(K),
    ...op.i32(1),
    ...op.i32Add,
    ...op.set(K),
    ...op.get(U),
    ...op.i32(1),
    ...op.i32Add,
    ...op.tee(U),
    ...op.get(SIZE),
    ...op.i32LtS,
    ...op.brIf(0),
    ...op.end, // u
    ...op.get(V),
    ...op.i32(1),
    ...op.i32Add,
    ...op.tee(V),
    ...op.get(SIZE),
    ...op.i32LtS,
    ...op.brIf(0),
    ...op.end, // v
    ...op.end,
    ...op.get(RES),
    ...op.get(GSUM),
    ...op.f64Store(0),
    ...op.get(RES),
    ...op.get(NVALID),
    ...op.f64Store(8),
  ];
  return {
    name: 'warp',
    params: [I32, I32, I32, I32, I32, I32, F64, F64, F64, F64, F64, F64, I32, I32, I32, I32, I32, F64, F64, F64, I32],
    locals: l.types,
    body,
  };
}

/**
 * laplacian(grey, valid, size, res): over interior pixels whose 4-neighbourhood is valid, the sum
 * and sum of squares of the 4-neighbour Laplacian and their count, at res+16, +24, +32 (f64).
 */
function laplacian(): WasmFunction {
  const [GREY, VALID, SIZE, RES] = [0, 1, 2, 3];
  const l = new Locals(4);
  const [X, Y, I, ROW] = [l.add(I32), l.add(I32), l.add(I32), l.add(I32)];
  const [LS, LS2, M, LAP] = [l.add(F64), l.add(F64), l.add(F64), l.add(F64)];
  const g = (offsetPixels: Bytes): Bytes => [
    ...op.get(GREY),
    ...op.get(I),
    ...offsetPixels,
    ...op.i32(2),
    ...op.i32Shl,
    ...op.i32Add,
    ...op.f32Load(),
    ...op.f64PromoteF32,
  ];
  const v = (offsetPixels: Bytes): Bytes => [
    ...op.get(VALID),
    ...op.get(I),
    ...offsetPixels,
    ...op.i32Add,
    ...op.i32Load8u(),
    ...op.i32(0),
    ...i32Ne,
  ];
  const none: Bytes = [];
  const minus1: Bytes = [...op.i32(1), ...op.i32Sub];
  const plus1: Bytes = [...op.i32(1), ...op.i32Add];
  const minusRow: Bytes = [...op.get(SIZE), ...op.i32Sub];
  const plusRow: Bytes = [...op.get(SIZE), ...op.i32Add];
  const body: Bytes = [
    ...op.block,
    ...op.get(SIZE),
    ...op.i32(3),
    ...op.i32LtS,
    ...op.brIf(0),
    ...op.i32(1),
    ...op.set(Y),
    ...op.loop,
    ...op.get(Y),
    ...op.get(SIZE),
    ...op.i32Mul,
    ...op.set(ROW),
    ...op.i32(1),
    ...op.set(X),
    ...op.loop,
    ...op.get(ROW),
    ...op.get(X),
    ...op.i32Add,
    ...op.set(I),
    ...v(none),
    ...v(minus1),
    ...i32And,
    ...v(plus1),
    ...i32And,
    ...v(minusRow),
    ...i32And,
    ...v(plusRow),
    ...i32And,
    ...op.if,
    // grey[i-1] + grey[i+1] + grey[i-size] + grey[i+size] - 4 * grey[i]
    ...g(minus1),
    ...g(plus1),
    ...op.f64Add,
    ...g(minusRow),
    ...op.f64Add,
    ...g(plusRow),
    ...op.f64Add,
    ...op.f64(4),
    ...g(none),
    ...op.f64Mul,
    ...op.f64Sub,
    ...op.set(LAP),
    ...op.get(LS),
    ...op.get(LAP),
    ...op.f64Add,
    ...op.set(LS),
    ...op.get(LS2),
    ...op.get(LAP),
    ...op.get(LAP),
    ...op.f64Mul,
    ...op.f64Add,
    ...op.set(LS2),
    ...op.get(M),
    ...op.f64(1),
    ...op.f64Add,
    ...op.set(M),
    ...op.end,
    ...op.get(X),
    ...op.i32(1),
    ...op.i32Add,
    ...op.tee(X),
    ...op.get(SIZE),
    ...op.i32(1),
    ...op.i32Sub,
    ...op.i32LtS,
    ...op.brIf(0),
    ...op.end,
    ...op.get(Y),
    ...op.i32(1),
    ...op.i32Add,
    ...op.tee(Y),
    ...op.get(SIZE),
    ...op.i32(1),
    ...op.i32Sub,
    ...op.i32LtS,
    ...op.brIf(0),
    ...op.end,
    ...op.end,
    ...op.get(RES),
    ...op.get(LS),
    ...op.f64Store(16),
    ...op.get(RES),
    ...op.get(LS2),
    ...op.f64Store(24),
    ...op.get(RES),
    ...op.get(M),
    ...op.f64Store(32),
  ];
  return { name: 'laplacian', params: [I32, I32, I32, I32], locals: l.types, body };
}

interface Exports {
  warp(...args: number[]): void;
  laplacian(grey: number, valid: number, size: number, res: number): void;
}

let compiled: object | undefined;
const align = (n: number) => Math.ceil(n / 64) * 64;

export interface Chip {
  /** interleaved float RGB 0..255 (views into WebAssembly memory, valid until the next chip) */
  rgb: Float32Array;
  valid: Uint8Array;
  /** (rgb - mean) / 255, planar CHW: the recognition net's input */
  tensor: Float32Array;
  /** as cropStats() computes them */
  sharpness: number;
  brightness: number;
}

export class ChipSampler {
  private readonly memory: WasmMemory;
  private readonly fns: Exports;
  private readonly rgbPtr: number;
  private readonly chwPtr: number;
  private readonly greyPtr: number;
  private readonly validPtr: number;
  private readonly resPtr: number;
  private readonly srcPtr: number;

  constructor(readonly size: number) {
    const n = size * size;
    let p = 64;
    this.resPtr = p;
    p += 64;
    this.rgbPtr = p;
    p = align(p + 12 * n);
    this.chwPtr = p;
    p = align(p + 12 * n);
    this.greyPtr = p;
    p = align(p + 4 * n);
    this.validPtr = p;
    p = align(p + n);
    this.srcPtr = p;
    this.memory = new wasm.Memory({ initial: Math.ceil((p + 256 * 1024) / PAGE) });
    compiled ??= new wasm.Module(assemble([warp(), laplacian()]));
    this.fns = new wasm.Instance(compiled, { env: { mem: this.memory } }).exports as unknown as Exports;
  }

  /** Samples the chip of `img` through `map` (chip pixel → source pixel) and measures it. */
  sample(img: RgbImage, map: Affine, mean: Rgb3): Chip {
    const { a, b, c, d, e, f } = map;
    if (![a, b, c, d, e, f].every(Number.isFinite)) throw new RangeError('the chip transform is not finite');
    const size = this.size;
    const { width: w, height: h } = img;
    // every pixel a sample can touch: the mapped corners' bounding box, one pixel more each side
    const last = size - 1;
    const xs = [c, a * last + c, b * last + c, a * last + b * last + c];
    const ys = [f, d * last + f, e * last + f, d * last + e * last + f];
    const rx = Math.max(0, Math.min(w, Math.floor(Math.min(...xs)) - 1));
    const ry = Math.max(0, Math.min(h, Math.floor(Math.min(...ys)) - 1));
    const rx1 = Math.max(rx, Math.min(w, Math.ceil(Math.max(...xs)) + 2));
    const ry1 = Math.max(ry, Math.min(h, Math.ceil(Math.max(...ys)) + 2));
    const rw = rx1 - rx;
    const need = this.srcPtr + rw * (ry1 - ry) * 3 + 64;
    if (need > this.memory.buffer.byteLength) this.memory.grow(Math.ceil((need - this.memory.buffer.byteLength) / PAGE));
    const bytes = new Uint8Array(this.memory.buffer);
    for (let y = ry; y < ry1; y++) {
      const start = (y * w + rx) * 3;
      bytes.set(img.data.subarray(start, start + rw * 3), this.srcPtr + (y - ry) * rw * 3);
    }
    this.fns.warp(
      this.srcPtr,
      rw,
      rx,
      ry,
      w,
      h,
      a,
      b,
      c,
      d,
      e,
      f,
      size,
      this.rgbPtr,
      this.chwPtr,
      this.greyPtr,
      this.validPtr,
      mean[0],
      mean[1],
      mean[2],
      this.resPtr,
    );
    this.fns.laplacian(this.greyPtr, this.validPtr, size, this.resPtr);
    const res = new Float64Array(this.memory.buffer, this.resPtr, 5);
    const [sum, nValid, ls, ls2, m] = [res[0]!, res[1]!, res[2]!, res[3]!, res[4]!];
    const buffer = this.memory.buffer;
    return {
      rgb: new Float32Array(buffer, this.rgbPtr, 3 * size * size),
      valid: new Uint8Array(buffer, this.validPtr, size * size),
      tensor: new Float32Array(buffer, this.chwPtr, 3 * size * size),
      sharpness: m > 0 ? ls2 / m - (ls / m) ** 2 : 0,
      brightness: nValid > 0 ? sum / nValid : 0,
    };
  }
}
