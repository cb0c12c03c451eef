/**
 * The in-memory 1:N index: every enrolled template as 128 float32 values in one contiguous
 * array, and the same rows quantised to int8 (value / QUANT_SCALE, rounded) in a second array a
 * quarter of the size, with each row's quantisation error |x - s*q| (its residual).
 *
 * A search first scans the int8 copy (WebAssembly SIMD, memory-bound, so four times fewer bytes
 * is about four times faster) and keeps only the rows that the triangle inequality cannot rule
 * out:  |x - y| >= s*|qx - qy| - |x - s*qx| - |y - s*qy|.  A row whose lower bound exceeds
 * maxDistance is one the exact scan would skip too; every other row gets its exact float32
 * distance from the same kernel the exact scan uses, and is folded into the answer in the same
 * order with the same rules. The answer is therefore identical to the exact scan's, bit for bit;
 * the filter only decides how many rows are computed exactly (tests compare both on many
 * genuine and impostor probes). `scan: 'exact'` runs the exhaustive float32 scan (the code from
 * before, for benchmarks and tests). Where WebAssembly SIMD is missing, a plain loop does the
 * exact search, abandoning a row as soon as its partial squared distance exceeds the distance
 * that could still matter.
 *
 * The index is a cache of the database: it never decides alone. Callers re-check the chosen
 * candidate against that person's templates freshly read from the database.
 */
import { DATA_OFFSET, createI8Kernel, createL2Kernel, type I8Kernel, type L2Kernel } from './l2-kernel.js';

export const DIMS = 128;
const PAGE = 65536;
/** int8 step: a power of two, so scaling is exact; covers values up to +-0.496 (descriptors stay well inside) */
export const QUANT_SCALE = 1 / 256;
/** added to the distance bound: covers float32 rounding in the int8 bound and in the exact distances */
const BOUND_SLACK = 1e-4;
/**
 * int8 memory: the query, then the table as two planes of capacity x 64 bytes (dimensions 0..63,
 * then 64..127), residuals (capacity x f32), candidate list (capacity x i32)
 */
const I8_OFFSET = 1024;
const HALF = DIMS / 2;

export interface SearchOptions {
  maxDistance: number;
  excludeUser?: string;
  /** 'quantized' (default where WebAssembly SIMD exists): int8 filter + exact re-check; 'exact': exhaustive float32 scan */
  scan?: 'quantized' | 'exact';
}

export interface Neighbour {
  userId: string;
  distance: number;
}

export interface SearchResult {
  best: Neighbour | null;
  /** nearest person other than best.userId (within the limit) */
  second: Neighbour | null;
}

export class FaceIndex {
  private data: Float32Array;
  private capacity: number;
  private rows = 0;
  private rowTemplate: string[] = [];
  private rowUser: string[] = [];
  private rowOfTemplate = new Map<string, number>();
  private templatesOfUser = new Map<string, Set<string>>();

  private readonly kernel: L2Kernel | null;
  private readonly i8: I8Kernel | null;
  /** rows that the last quantized search computed exactly (tests, benchmarks) */
  lastExactRows = 0;
  private readonly scratch = new Int8Array(DIMS);

  /** `simd: false` forces the plain JavaScript search (tests compare both). */
  constructor(initialCapacity = 1024, opts: { simd?: boolean } = {}) {
    this.capacity = Math.max(16, initialCapacity);
    this.kernel = opts.simd === false ? null : createL2Kernel(Math.ceil(this.bytesFor(this.capacity) / PAGE));
    this.i8 = this.kernel ? createI8Kernel(Math.ceil(this.i8BytesFor(this.capacity) / PAGE)) : null;
    this.data = this.kernel ? this.view() : new Float32Array(this.capacity * DIMS);
  }

  private i8BytesFor(capacity: number): number {
    return I8_OFFSET + capacity * (DIMS + 8);
  }

  private get secondPlane(): number {
    return I8_OFFSET + this.capacity * HALF;
  }

  private get residOffset(): number {
    return I8_OFFSET + this.capacity * DIMS;
  }

  private get candidatesOffset(): number {
    return this.residOffset + this.capacity * 4;
  }

  /** Bytes held by the tables (float32 + int8 + residuals + scratch), for capacity planning. */
  get tableBytes(): number {
    return (this.kernel ? this.kernel.memory.buffer.byteLength : this.data.byteLength) + (this.i8 ? this.i8.memory.buffer.byteLength : 0);
  }

  /** Quantises row `row` of the float table into the int8 table and records its residual. */
  private quantize(row: number): void {
    const i8 = this.i8;
    if (!i8) return;
    const buffer = i8.memory.buffer;
    const q = this.scratch;
    const resid = quantizeInto(this.data.subarray(row * DIMS, row * DIMS + DIMS), q);
    const bytes = new Int8Array(buffer);
    bytes.set(q.subarray(0, HALF), I8_OFFSET + row * HALF);
    bytes.set(q.subarray(HALF), this.secondPlane + row * HALF);
    new Float32Array(buffer, this.residOffset, this.capacity)[row] = resid;
  }

  /** true when searches run on the WebAssembly SIMD kernel */
  get simd(): boolean {
    return this.kernel !== null;
  }

  private bytesFor(capacity: number): number {
    return DATA_OFFSET + capacity * DIMS * 4 + capacity * 4;
  }

  private view(): Float32Array {
    return new Float32Array((this.kernel as L2Kernel).memory.buffer, DATA_OFFSET, this.capacity * DIMS);
  }

  get size(): number {
    return this.rows;
  }

  get users(): number {
    return this.templatesOfUser.size;
  }

  has(templateId: string): boolean {
    return this.rowOfTemplate.has(templateId);
  }

  add(templateId: string, userId: string, embedding: ArrayLike<number>): void {
    if (embedding.length !== DIMS) throw new RangeError(`embedding must have ${DIMS} values`);
    let row = this.rowOfTemplate.get(templateId);
    if (row === undefined) {
      if (this.rows === this.capacity) this.grow();
      row = this.rows++;
      this.rowOfTemplate.set(templateId, row);
      this.rowTemplate[row] = templateId;
      this.rowUser[row] = userId;
      let set = this.templatesOfUser.get(userId);
      if (!set) this.templatesOfUser.set(userId, (set = new Set()));
      set.add(templateId);
    }
    this.data.set(embedding, row * DIMS);
    this.quantize(row);
  }

  /** Replaces everything known about one user (after a notification that they changed). */
  replaceUser(userId: string, templates: { id: string; embedding: ArrayLike<number> }[]): void {
    this.removeUser(userId);
    for (const t of templates) this.add(t.id, userId, t.embedding);
  }

  removeUser(userId: string): void {
    const set = this.templatesOfUser.get(userId);
    if (!set) return;
    for (const id of [...set]) this.removeTemplate(id);
  }

  /** Swap-remove keeps the array dense. */
  removeTemplate(templateId: string): void {
    const row = this.rowOfTemplate.get(templateId);
    if (row === undefined) return;
    const userId = this.rowUser[row] as string;
    const last = this.rows - 1;
    if (row !== last) {
      this.data.copyWithin(row * DIMS, last * DIMS, last * DIMS + DIMS);
      if (this.i8) {
        const bytes = new Uint8Array(this.i8.memory.buffer);
        bytes.copyWithin(I8_OFFSET + row * HALF, I8_OFFSET + last * HALF, I8_OFFSET + last * HALF + HALF);
        bytes.copyWithin(this.secondPlane + row * HALF, this.secondPlane + last * HALF, this.secondPlane + last * HALF + HALF);
        const resid = new Float32Array(this.i8.memory.buffer, this.residOffset, this.capacity);
        resid[row] = resid[last] as number;
      }
      const movedTemplate = this.rowTemplate[last] as string;
      this.rowTemplate[row] = movedTemplate;
      this.rowUser[row] = this.rowUser[last] as string;
      this.rowOfTemplate.set(movedTemplate, row);
    }
    this.rowTemplate.length = last;
    this.rowUser.length = last;
    this.rows = last;
    this.rowOfTemplate.delete(templateId);
    const set = this.templatesOfUser.get(userId);
    set?.delete(templateId);
    if (set && set.size === 0) this.templatesOfUser.delete(userId);
  }

  clear(): void {
    this.rows = 0;
    this.rowTemplate = [];
    this.rowUser = [];
    this.rowOfTemplate.clear();
    this.templatesOfUser.clear();
  }

  private grow(): void {
    const oldResid = this.residOffset;
    const oldSecond = this.secondPlane;
    const oldCapacity = this.capacity;
    this.capacity *= 2;
    if (this.i8) {
      // the first plane stays; the residuals, then the second plane move up (the residuals first:
      // the second plane's new place covers where they were)
      const mem = this.i8.memory;
      const pages = Math.ceil(this.i8BytesFor(this.capacity) / PAGE) - mem.buffer.byteLength / PAGE;
      if (pages > 0) mem.grow(pages);
      const bytes = new Uint8Array(mem.buffer);
      bytes.copyWithin(this.residOffset, oldResid, oldResid + oldCapacity * 4);
      bytes.copyWithin(this.secondPlane, oldSecond, oldSecond + oldCapacity * HALF);
    }
    if (this.kernel) {
      // rows stay where they are; the distance scratch area after them moves up
      const mem = this.kernel.memory;
      const pages = Math.ceil(this.bytesFor(this.capacity) / PAGE) - mem.buffer.byteLength / PAGE;
      if (pages > 0) mem.grow(pages);
      this.data = this.view();
      return;
    }
    const next = new Float32Array(this.capacity * DIMS);
    next.set(this.data.subarray(0, this.rows * DIMS));
    this.data = next;
  }

  /**
   * Nearest and second-nearest distinct people within `maxDistance` (exact Euclidean).
   * People further than `maxDistance` are reported as absent.
   */
  search(query: ArrayLike<number>, opts: SearchOptions): SearchResult {
    if (query.length !== DIMS) throw new RangeError(`query must have ${DIMS} values`);
    if (this.kernel && this.i8 && opts.scan !== 'exact') return this.searchQuantized(query, opts);
    if (this.kernel) return this.searchSimd(query, opts);
    const q = query instanceof Float32Array ? query : Float32Array.from(query);
    const data = this.data;
    const rowUser = this.rowUser;
    const exclude = opts.excludeUser;
    const limit2 = opts.maxDistance * opts.maxDistance;
    let bestUser: string | null = null;
    let bestD2 = limit2;
    let secondUser: string | null = null;
    let secondD2 = limit2;
    // bound = the largest squared distance that can still change the answer
    let bound = limit2;

    // the query in locals: the JIT keeps them in registers across rows
    const n = this.rows;
    for (let r = 0; r < n; r++) {
      const base = r * DIMS;
      let acc = 0;
      let i = 0;
      // 32 dimensions per check: checking more often costs more than it saves
      for (; i < DIMS; i += 32) {
        const o = base + i;
        let a0 = 0,
          a1 = 0,
          a2 = 0,
          a3 = 0;
        for (let j = 0; j < 32; j += 4) {
          const d0 = (data[o + j] as number) - (q[i + j] as number);
          const d1 = (data[o + j + 1] as number) - (q[i + j + 1] as number);
          const d2 = (data[o + j + 2] as number) - (q[i + j + 2] as number);
          const d3 = (data[o + j + 3] as number) - (q[i + j + 3] as number);
          a0 += d0 * d0;
          a1 += d1 * d1;
          a2 += d2 * d2;
          a3 += d3 * d3;
        }
        acc += a0 + a1 + a2 + a3;
        if (acc > bound) break;
      }
      if (acc > bound) continue;
      const u = rowUser[r] as string;
      if (u === exclude) continue;
      if (u === bestUser) {
        if (acc < bestD2) bestD2 = acc;
      } else if (acc < bestD2) {
        secondUser = bestUser;
        secondD2 = bestD2;
        bestUser = u;
        bestD2 = acc;
      } else if (acc < secondD2) {
        secondUser = u;
        secondD2 = acc;
      }
      bound = secondD2;
    }
    return {
      best: bestUser === null ? null : { userId: bestUser, distance: Math.sqrt(bestD2) },
      second: secondUser === null ? null : { userId: secondUser, distance: Math.sqrt(secondD2) },
    };
  }

  /**
   * The int8 filter, then exact distances for the rows it keeps, folded in with searchSimd()'s
   * rules in ascending row order: the same answer as searchSimd().
   */
  private searchQuantized(query: ArrayLike<number>, opts: SearchOptions): SearchResult {
    const kernel = this.kernel as L2Kernel;
    const i8 = this.i8 as I8Kernel;
    const n = this.rows;
    // the exact kernel compares against the query as float32: bound the error of that one
    const q32 = new Float32Array(kernel.memory.buffer, 0, DIMS);
    q32.set(query);
    const qq = new Int8Array(i8.memory.buffer, 0, DIMS);
    const queryResid = quantizeInto(q32, qq);
    const bound = opts.maxDistance + queryResid + BOUND_SLACK;
    const count = i8.scan(0, I8_OFFSET, this.secondPlane, n, this.residOffset, QUANT_SCALE, bound, this.candidatesOffset);
    this.lastExactRows = count;
    // a bound that rules out little (a huge maxDistance): the plain exact scan is cheaper
    if (count > n / 8) return this.searchSimd(query, opts);
    const candidates = new Int32Array(i8.memory.buffer, this.candidatesOffset, count);
    const outOffset = DATA_OFFSET + this.capacity * DIMS * 4;
    const dist = new Float32Array(kernel.memory.buffer, outOffset, 1);
    const rowUser = this.rowUser;
    const exclude = opts.excludeUser;
    const limit2 = opts.maxDistance * opts.maxDistance;
    let bestUser: string | null = null;
    let bestD2 = limit2;
    let secondUser: string | null = null;
    let secondD2 = limit2;
    for (let k = 0; k < count; k++) {
      const r = candidates[k] as number;
      kernel.l2(0, DATA_OFFSET + r * DIMS * 4, 1, outOffset);
      const acc = dist[0] as number;
      if (acc > secondD2) continue;
      const u = rowUser[r] as string;
      if (u === exclude) continue;
      if (u === bestUser) {
        if (acc < bestD2) bestD2 = acc;
      } else if (acc < bestD2) {
        secondUser = bestUser;
        secondD2 = bestD2;
        bestUser = u;
        bestD2 = acc;
      } else if (acc < secondD2) {
        secondUser = u;
        secondD2 = acc;
      }
    }
    return {
      best: bestUser === null ? null : { userId: bestUser, distance: Math.sqrt(bestD2) },
      second: secondUser === null ? null : { userId: secondUser, distance: Math.sqrt(secondD2) },
    };
  }

  private searchSimd(query: ArrayLike<number>, opts: { maxDistance: number; excludeUser?: string }): SearchResult {
    const kernel = this.kernel as L2Kernel;
    const buffer = kernel.memory.buffer;
    new Float32Array(buffer, 0, DIMS).set(query);
    const n = this.rows;
    const outOffset = DATA_OFFSET + this.capacity * DIMS * 4;
    kernel.l2(0, DATA_OFFSET, n, outOffset);
    const dist = new Float32Array(buffer, outOffset, n);
    const rowUser = this.rowUser;
    const exclude = opts.excludeUser;
    const limit2 = opts.maxDistance * opts.maxDistance;
    let bestUser: string | null = null;
    let bestD2 = limit2;
    let secondUser: string | null = null;
    let secondD2 = limit2;
    for (let r = 0; r < n; r++) {
      const acc = dist[r] as number;
      if (acc > secondD2) continue;
      const u = rowUser[r] as string;
      if (u === exclude) continue;
      if (u === bestUser) {
        if (acc < bestD2) bestD2 = acc;
      } else if (acc < bestD2) {
        secondUser = bestUser;
        secondD2 = bestD2;
        bestUser = u;
        bestD2 = acc;
      } else if (acc < secondD2) {
        secondUser = u;
        secondD2 = acc;
      }
    }
    return {
      best: bestUser === null ? null : { userId: bestUser, distance: Math.sqrt(bestD2) },
      second: secondUser === null ? null : { userId: secondUser, distance: Math.sqrt(secondD2) },
    };
  }
}

/**
 * Rounds v / QUANT_SCALE to int8 (clamped to +-127) into `out` and returns the residual
 * |v - QUANT_SCALE * out|, computed in float64 and rounded up so that it never understates.
 */
export function quantizeInto(v: ArrayLike<number>, out: Int8Array): number {
  let r2 = 0;
  for (let j = 0; j < DIMS; j++) {
    const x = v[j] as number;
    const q = Math.max(-127, Math.min(127, Math.round(x / QUANT_SCALE)));
    out[j] = q;
    const e = x - q * QUANT_SCALE;
    r2 += e * e;
  }
  const r = Math.sqrt(r2);
  return Math.fround(r * (1 + 1e-6) + 1e-9);
}
