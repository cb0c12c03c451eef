/** Small helpers for values coming back from either driver (pg or PGlite). */

export function toIso(v: unknown): string {
  if (v instanceof Date) return v.toISOString();
  return new Date(String(v)).toISOString();
}

export function toIsoOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : toIso(v);
}

export function toDate(v: unknown): Date {
  return v instanceof Date ? v : new Date(String(v));
}

export function toBytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  // pg without a type parser gives "\\x..." hex text for bytea
  if (typeof v === 'string' && v.startsWith('\\x')) return Buffer.from(v.slice(2), 'hex');
  throw new TypeError('expected bytea');
}

export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}
