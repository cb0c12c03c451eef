/**
 * Just enough of a WebAssembly assembler to write the pipeline's pixel kernels in TypeScript:
 * opcodes as byte arrays, one function per export, one imported memory. The kernels run
 * without the bounds check on every typed-array access that costs V8's JavaScript about half
 * its speed in these loops, and without any download or native add-on.
 */

export type Bytes = number[];

export function leb(n: number): Bytes {
  const out: Bytes = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

export function sleb(n: number): Bytes {
  const out: Bytes = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

export const I32 = 0x7f;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof F32 | typeof F64 | typeof V128;

/** The instructions the kernels use, by their text-format names. */
export const op = {
  get: (i: number): Bytes => [0x20, ...leb(i)],
  set: (i: number): Bytes => [0x21, ...leb(i)],
  tee: (i: number): Bytes => [0x22, ...leb(i)],
  i32: (v: number): Bytes => [0x41, ...sleb(v)],
  f64: (v: number): Bytes => {
    const b = new Uint8Array(new Float64Array([v]).buffer);
    return [0x44, ...b];
  },
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  else: [0x05],
  end: [0x0b],
  br: (depth: number): Bytes => [0x0c, ...leb(depth)],
  brIf: (depth: number): Bytes => [0x0d, ...leb(depth)],
  select: [0x1b],
  i32Load: (offset = 0): Bytes => [0x28, 2, ...leb(offset)],
  f32Load: (offset = 0): Bytes => [0x2a, 2, ...leb(offset)],
  f64Load: (offset = 0): Bytes => [0x2b, 3, ...leb(offset)],
  i32Load8u: (offset = 0): Bytes => [0x2d, 0, ...leb(offset)],
  i32Store: (offset = 0): Bytes => [0x36, 2, ...leb(offset)],
  f32Store: (offset = 0): Bytes => [0x38, 2, ...leb(offset)],
  f64Store: (offset = 0): Bytes => [0x39, 3, ...leb(offset)],
  i32Eqz: [0x45],
  i32LtS: [0x48],
  i32LtU: [0x49],
  i32GeS: [0x4e],
  i32GeU: [0x4f],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Mul: [0x6c],
  i32Shl: [0x74],
  f32Le: [0x5f],
  f32Sqrt: [0x91],
  f32Add: [0x92],
  f32Sub: [0x93],
  f32Mul: [0x94],
  f64Add: [0xa0],
  f64Sub: [0xa1],
  f64Mul: [0xa2],
  f64Div: [0xa3],
  f32ConvertI32S: [0xb2],
  f32DemoteF64: [0xb6],
  f64ConvertI32U: [0xb8],
  f64PromoteF32: [0xbb],
  // SIMD (128-bit): f64x2 lanes are IEEE doubles, so a two-lane loop computes exactly what the scalar one does
  v128Load: (offset = 0): Bytes => [0xfd, 0x00, 4, ...leb(offset)],
  v128Store: (offset = 0): Bytes => [0xfd, 0x0b, 4, ...leb(offset)],
  v128Store64Lane: (lane: number, offset = 0): Bytes => [0xfd, 0x5b, 3, ...leb(offset), lane],
  f64x2Splat: [0xfd, 0x14],
  f64x2Add: [0xfd, ...leb(0xf0)],
  f64x2Sub: [0xfd, ...leb(0xf1)],
  f64x2Mul: [0xfd, ...leb(0xf2)],
  f64x2Div: [0xfd, ...leb(0xf3)],
  f32x4DemoteF64x2Zero: [0xfd, ...leb(0x5e)],
} as const;

export interface WasmFunction {
  name: string;
  params: ValType[];
  /** extra locals after the parameters, in order */
  locals: ValType[];
  body: Bytes;
}

const section = (id: number, body: Bytes): Bytes => [id, ...leb(body.length), ...body];
const str = (s: string): Bytes => [...leb(s.length), ...Buffer.from(s, 'utf8')];

/** A module that imports `env.mem` and exports each function (no results; they write to memory). */
export function assemble(functions: WasmFunction[]): Uint8Array {
  const types = functions.map((f) => [0x60, ...leb(f.params.length), ...f.params, 0]);
  const codes = functions.map((f) => {
    // locals, run-length encoded by type
    const groups: [number, ValType][] = [];
    for (const t of f.locals) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    const body = [...leb(groups.length), ...groups.flatMap(([n, t]) => [...leb(n), t]), ...f.body, ...op.end];
    return [...leb(body.length), ...body];
  });
  return Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, [...leb(types.length), ...types.flat()]),
    ...section(2, [1, ...str('env'), ...str('mem'), 0x02, 0x00, 1]),
    ...section(3, [...leb(functions.length), ...functions.flatMap((_, i) => leb(i))]),
    ...section(7, [...leb(functions.length), ...functions.flatMap((f, i) => [...str(f.name), 0x00, ...leb(i)])]),
    ...section(10, [...leb(codes.length), ...codes.flat()]),
  ]);
}

// The service compiles against ES2023 + Node types, which do not declare WebAssembly.
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Memory: new (d: { initial: number }) => WasmMemory;
  Instance: new (m: object, imports: object) => { exports: Record<string, unknown> };
}
export const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
export const PAGE = 65536;
