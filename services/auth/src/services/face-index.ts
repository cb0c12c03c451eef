/**
 * The in-memory 1:N index: every enrolled template as 128 float32 values in one contiguous
 * array, searched exhaustively (exact). The distances come from a WebAssembly SIMD kernel
 * (l2-kernel.ts) over that array, then one cheap pass picks the two nearest people. Where
 * WebAssembly SIMD is missing, a plain loop does the same, abandoning a row as soon as its
 * partial squared distance exceeds the distance that could still matter.
 *
 * The index is a cache of the database: it never decides alone. Callers re-check the chosen
 * candidate against that person's templates freshly read from the database.
 */
import { DATA_OFFSET, createL2Kernel, type L2Kernel } from './l2-kernel.js';

export const DIMS = 128;
const PAGE = 65536;

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

  /** `simd: false` forces the plain JavaScript search (tests compare both). */
  constructor(initialCapacity = 1024, opts: { simd?: boolean } = {}) {
    this.capacity = Math.max(16, initialCapacity);
    this.kernel = opts.simd === false ? null : createL2Kernel(Math.ceil(this.bytesFor(this.capacity) / PAGE));
    this.data = this.kernel ? this.view() : new Float32Array(this.capacity * DIMS);
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
    this.capacity *= 2;
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
  search(query: ArrayLike<number>, opts: { maxDistance: number; excludeUser?: string }): SearchResult {
    if (query.length !== DIMS) throw new RangeError(`query must have ${DIMS} values`);
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
        let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
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
