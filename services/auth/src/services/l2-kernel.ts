/**
 * Squared Euclidean distances from one 128-D query to every row of a contiguous float32 table,
 * as a tiny WebAssembly SIMD module (f32x4) generated here byte by byte: four lanes per
 * instruction where plain JavaScript does one, with no download and no native add-on.
 * A second module (createI8Kernel) scans an int8 copy of the table, a quarter of the bytes, and
 * lists the rows that may lie within a distance bound (see face-index.ts for the bound).
 *
 * Memory layout (one WebAssembly.Memory, grown as the table grows):
 *   [0, 512)                      the query
 *   [DATA_OFFSET, +rows*512)      the table, row-major
 *   [outOffset, +rows*4)          the distances written by `l2`
 */
export const DATA_OFFSET = 1024;
const ROW_BYTES = 128 * 4;

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}
function sleb(n: number): number[] {
  const out: number[] = [];
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
const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body];
const str = (s: string) => [...leb(s.length), ...Buffer.from(s, 'utf8')];

const SIMD = 0xfd;
const V128_LOAD = (offset: number) => [SIMD, 0x00, 4, ...leb(offset)];
const F32X4_ADD = [SIMD, ...leb(0xe4)];
const F32X4_SUB = [SIMD, ...leb(0xe5)];
const F32X4_MUL = [SIMD, ...leb(0xe6)];
const F32X4_EXTRACT = (lane: number) => [SIMD, 0x1f, lane];
const LOCAL_GET = (i: number) => [0x20, ...leb(i)];
const LOCAL_SET = (i: number) => [0x21, ...leb(i)];
const LOCAL_TEE = (i: number) => [0x22, ...leb(i)];
const I32_CONST = (v: number) => [0x41, ...sleb(v)];

/** l2(query, data, rows, out): out[r] = sum_j (data[r][j] - query[j])^2 */
function buildModule(): Uint8Array {
  // params 0..3: query, data, rows, out; locals: 32 query vectors (4..35), acc 36, d 37 (v128); end 38 (i32)
  const Q = (j: number) => 4 + j;
  const ACC = 36;
  const D = 37;
  const END = 38;
  const body: number[] = [];
  for (let j = 0; j < 32; j++) body.push(...LOCAL_GET(0), ...V128_LOAD(j * 16), ...LOCAL_SET(Q(j)));
  body.push(...LOCAL_GET(3), ...LOCAL_GET(2), ...I32_CONST(2), 0x74 /* shl */, 0x6a /* add */, ...LOCAL_SET(END));
  body.push(0x02, 0x40 /* block */, ...LOCAL_GET(3), ...LOCAL_GET(END), 0x4f /* ge_u */, 0x0d, 0x00 /* br_if block */);
  body.push(0x03, 0x40 /* loop */);
  // four independent chains of eight terms, then combined: the CPU overlaps the chains
  for (let g = 0; g < 4; g++) {
    for (let k = 0; k < 8; k++) {
      const j = g * 8 + k;
      body.push(...LOCAL_GET(1), ...V128_LOAD(j * 16), ...LOCAL_GET(Q(j)), ...F32X4_SUB, ...LOCAL_TEE(D), ...LOCAL_GET(D), ...F32X4_MUL);
      if (k > 0) body.push(...F32X4_ADD);
    }
    if (g > 0) body.push(...F32X4_ADD);
  }
  body.push(...LOCAL_SET(ACC), ...LOCAL_GET(3));
  body.push(...LOCAL_GET(ACC), ...F32X4_EXTRACT(0), ...LOCAL_GET(ACC), ...F32X4_EXTRACT(1), 0x92 /* f32.add */);
  body.push(...LOCAL_GET(ACC), ...F32X4_EXTRACT(2), 0x92, ...LOCAL_GET(ACC), ...F32X4_EXTRACT(3), 0x92);
  body.push(0x38, 2, 0 /* f32.store align=4 offset=0 */);
  body.push(...LOCAL_GET(1), ...I32_CONST(ROW_BYTES), 0x6a, ...LOCAL_SET(1));
  body.push(...LOCAL_GET(3), ...I32_CONST(4), 0x6a, ...LOCAL_TEE(3), ...LOCAL_GET(END), 0x49 /* lt_u */, 0x0d, 0x00 /* br_if loop */);
  body.push(0x0b /* end loop */, 0x0b /* end block */, 0x0b /* end func */);
  const locals = [2, ...leb(34), 0x7b /* v128 */, ...leb(1), 0x7f /* i32 */];
  const func = [...locals, ...body];
  return Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, [1, 0x60, 4, 0x7f, 0x7f, 0x7f, 0x7f, 0]),
    ...section(2, [1, ...str('env'), ...str('mem'), 0x02, 0x00, 1]),
    ...section(3, [1, 0]),
    ...section(7, [1, ...str('l2'), 0x00, 0]),
    ...section(10, [1, ...leb(func.length), ...func]),
  ]);
}

// The service compiles against ES2023 + Node types, which do not declare WebAssembly; these
// few members are all that is used.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Memory: new (d: { initial: number }) => WasmMemory;
  Instance: new (m: object, imports: object) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export interface L2Kernel {
  memory: WasmMemory;
  l2(query: number, data: number, rows: number, out: number): void;
}

/**
 * scan(q, a, b, rows, resid, s, bound, out) -> count. q: 128 int8 (the quantised query); a and b:
 * the int8 table in two planes, dimensions 0..63 (a) and 64..127 (b) of each row, 64 bytes per row
 * each; resid: one f32 per row. Writes to out (i32) the index of every row r with
 * s * sqrt(sum_j (row[j] - q[j])^2) - resid[r] <= bound, in ascending order; returns how many.
 * The first half's sum alone already rules most rows out (it can only grow), so their second
 * half is never read: about half the memory traffic. Integer sums are exact (at most 128 * 254^2).
 */
function buildI8Module(): Uint8Array {
  const [Q, A, B, ROWS, RESID, S, BOUND, OUT] = [0, 1, 2, 3, 4, 5, 6, 7];
  const QL = (j: number) => 8 + 2 * j; // query dims 16j..16j+7 as i16x8
  const QH = (j: number) => 9 + 2 * j; // 16j+8..16j+15
  const [ACC, X, D] = [24, 25, 26];
  const [R, COUNT, SUM] = [27, 28, 29];
  const V = (op: number, ...imm: number[]) => [SIMD, ...leb(op), ...imm];
  const I16X8_EXTEND_LOW_I8X16_S = V(0x87);
  const I16X8_EXTEND_HIGH_I8X16_S = V(0x88);
  const I16X8_SUB = V(0x91);
  const I32X4_ADD = V(0xae);
  const I32X4_DOT = V(0xba);
  const I32X4_SPLAT = V(0x11);
  const I32X4_EXTRACT = (lane: number) => V(0x1b, lane);
  // squared distance over 64 dimensions (four vectors at base, query vectors from j0) into ACC
  const half = (base: number, j0: number) => {
    const out: number[] = [...I32_CONST(0), ...I32X4_SPLAT, ...LOCAL_SET(ACC)];
    for (let k = 0; k < 4; k++) {
      const j = j0 + k;
      out.push(...LOCAL_GET(base), ...V128_LOAD(16 * k), ...LOCAL_TEE(X));
      out.push(...I16X8_EXTEND_LOW_I8X16_S, ...LOCAL_GET(QL(j)), ...I16X8_SUB, ...LOCAL_TEE(D), ...LOCAL_GET(D), ...I32X4_DOT);
      out.push(...LOCAL_GET(ACC), ...I32X4_ADD, ...LOCAL_SET(ACC));
      out.push(
        ...LOCAL_GET(X),
        ...I16X8_EXTEND_HIGH_I8X16_S,
        ...LOCAL_GET(QH(j)),
        ...I16X8_SUB,
        ...LOCAL_TEE(D),
        ...LOCAL_GET(D),
        ...I32X4_DOT,
      );
      out.push(...LOCAL_GET(ACC), ...I32X4_ADD, ...LOCAL_SET(ACC));
    }
    out.push(...LOCAL_GET(ACC), ...I32X4_EXTRACT(0), ...LOCAL_GET(ACC), ...I32X4_EXTRACT(1), 0x6a /* i32.add */);
    out.push(...LOCAL_GET(ACC), ...I32X4_EXTRACT(2), 0x6a, ...LOCAL_GET(ACC), ...I32X4_EXTRACT(3), 0x6a);
    return out;
  };
  // s * sqrt(SUM) - resid <= bound
  const within = [
    ...LOCAL_GET(SUM),
    0xb2 /* f32.convert_i32_s */,
    0x91 /* f32.sqrt */,
    ...LOCAL_GET(S),
    0x94 /* f32.mul */,
    ...LOCAL_GET(RESID),
    0x2a,
    2,
    0 /* f32.load */,
    0x93 /* f32.sub */,
    ...LOCAL_GET(BOUND),
    0x5f /* f32.le */,
  ];
  const body: number[] = [];
  for (let j = 0; j < 8; j++) {
    body.push(...LOCAL_GET(Q), ...V128_LOAD(16 * j), ...LOCAL_TEE(X), ...I16X8_EXTEND_LOW_I8X16_S, ...LOCAL_SET(QL(j)));
    body.push(...LOCAL_GET(X), ...I16X8_EXTEND_HIGH_I8X16_S, ...LOCAL_SET(QH(j)));
  }
  body.push(0x02, 0x40 /* block */, ...LOCAL_GET(ROWS), 0x45 /* i32.eqz */, 0x0d, 0x00 /* br_if block */);
  body.push(0x03, 0x40 /* loop */);
  body.push(...half(A, 0), ...LOCAL_SET(SUM), ...within);
  body.push(0x04, 0x40 /* if */);
  body.push(...half(B, 4), ...LOCAL_GET(SUM), 0x6a, ...LOCAL_SET(SUM), ...within);
  body.push(0x04, 0x40 /* if */);
  body.push(...LOCAL_GET(OUT), ...LOCAL_GET(COUNT), ...I32_CONST(2), 0x74 /* shl */, 0x6a, ...LOCAL_GET(R), 0x36, 2, 0 /* i32.store */);
  body.push(...LOCAL_GET(COUNT), ...I32_CONST(1), 0x6a, ...LOCAL_SET(COUNT));
  body.push(0x0b /* end if */, 0x0b /* end if */);
  body.push(...LOCAL_GET(A), ...I32_CONST(64), 0x6a, ...LOCAL_SET(A));
  body.push(...LOCAL_GET(B), ...I32_CONST(64), 0x6a, ...LOCAL_SET(B));
  body.push(...LOCAL_GET(RESID), ...I32_CONST(4), 0x6a, ...LOCAL_SET(RESID));
  body.push(...LOCAL_GET(R), ...I32_CONST(1), 0x6a, ...LOCAL_TEE(R), ...LOCAL_GET(ROWS), 0x49 /* lt_u */, 0x0d, 0x00 /* br_if loop */);
  body.push(0x0b /* end loop */, 0x0b /* end block */, ...LOCAL_GET(COUNT), 0x0b /* end func */);
  // locals: 16 query vectors + acc, x, d (v128); r, count, sum (i32)
  const locals = [2, ...leb(19), 0x7b, ...leb(3), 0x7f];
  const func = [...locals, ...body];
  return Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, [1, 0x60, 8, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7d, 0x7d, 0x7f, 1, 0x7f]),
    ...section(2, [1, ...str('env'), ...str('mem'), 0x02, 0x00, 1]),
    ...section(3, [1, 0]),
    ...section(7, [1, ...str('scan'), 0x00, 0]),
    ...section(10, [1, ...leb(func.length), ...func]),
  ]);
}

export interface I8Kernel {
  memory: WasmMemory;
  scan(query: number, a: number, b: number, rows: number, resid: number, scale: number, bound: number, out: number): number;
}

let cachedI8: object | null | undefined;

/** The int8 scan, or null where WebAssembly SIMD is unavailable. */
export function createI8Kernel(initialPages = 1): I8Kernel | null {
  if (cachedI8 === undefined) {
    try {
      cachedI8 = new wasm.Module(buildI8Module());
    } catch {
      cachedI8 = null;
    }
  }
  if (!cachedI8) return null;
  const memory = new wasm.Memory({ initial: initialPages });
  const instance = new wasm.Instance(cachedI8, { env: { mem: memory } });
  return { memory, scan: instance.exports.scan as I8Kernel['scan'] };
}

let cached: object | null | undefined;

/** The compiled kernel, or null where WebAssembly SIMD is unavailable (the caller then uses plain JavaScript). */
export function createL2Kernel(initialPages = 1): L2Kernel | null {
  if (cached === undefined) {
    try {
      cached = new wasm.Module(buildModule());
    } catch {
      cached = null;
    }
  }
  if (!cached) return null;
  const memory = new wasm.Memory({ initial: initialPages });
  const instance = new wasm.Instance(cached, { env: { mem: memory } });
  return { memory, l2: instance.exports.l2 as L2Kernel['l2'] };
}
