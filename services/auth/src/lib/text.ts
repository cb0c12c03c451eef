/**
 * Hostile text, refused in one place for every HTTP route and every Socket.IO event before any
 * handler runs: a NUL reaching PostgreSQL, or a lone surrogate reaching a jsonb column, used to
 * fail as 500; an invisible or direction-changing character in a name makes `op\u200Badmin` look
 * like `opadmin` in the admin list.
 *
 * Every string anywhere in the input:
 * - may not contain control characters (C0, DEL, C1; NUL included);
 * - must be well-formed UTF-16 (no lone surrogates);
 * - is normalised to NFC, so the same name is stored the same way however it was typed.
 * Strings under the names people see (`username`, `displayName`, `greeting`, `station`)
 * additionally may not contain format characters (zero-width spaces and joiners, bidi marks,
 * embeddings, overrides and isolates, soft hyphen, BOM), line or paragraph separators, or the
 * Hangul fillers that render as nothing.
 *
 * @example
 * cleanInput({ displayName: 'Ame\u0301lie' }); // { value: { displayName: 'Amélie' } }
 * cleanInput({ displayName: 'op\u200Badmin' }); // { problem: { field: 'displayName', reason: 'invisible' } }
 */
import { ErrorCode } from '@faceline/contracts';
import { AuthError } from '../errors.js';

export type TextProblemReason = 'control' | 'malformed' | 'invisible';
export interface TextProblem {
  field: string;
  reason: TextProblemReason;
}

/** Keys whose strings are shown to people as names or greetings. */
export const SHOWN_TEXT_FIELDS: ReadonlySet<string> = new Set(['username', 'displayName', 'greeting', 'station']);

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this pattern's purpose
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;
// with the u flag a surrogate pair is one code point outside this range: only lone halves match
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const INVISIBLE = /[\p{Cf}\p{Zl}\p{Zp}\u115F\u1160\u3164\uFFA0]/u;
const MAX_DEPTH = 8;

function checkString(s: string, shown: boolean): TextProblemReason | undefined {
  if (CONTROL.test(s)) return 'control';
  if (LONE_SURROGATE.test(s)) return 'malformed';
  if (shown && INVISIBLE.test(s.normalize('NFC'))) return 'invisible';
  return undefined;
}

const isBinary = (v: object) => ArrayBuffer.isView(v) || v instanceof ArrayBuffer;

/**
 * The input with every string NFC-normalised, or the first problem found. Binary values (frames)
 * pass untouched; objects are copied, never changed in place.
 */
export function cleanInput(
  value: unknown,
  field = '',
  depth = 0,
): { value: unknown; problem?: undefined } | { problem: TextProblem; value?: undefined } {
  if (typeof value === 'string') {
    const key = field.slice(field.lastIndexOf('.') + 1);
    const reason = checkString(value, SHOWN_TEXT_FIELDS.has(key));
    return reason ? { problem: { field, reason } } : { value: value.normalize('NFC') };
  }
  if (value === null || typeof value !== 'object' || isBinary(value) || depth > MAX_DEPTH) return { value };
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      const r = cleanInput(value[i], field ? `${field}.${i}` : String(i), depth + 1);
      if (r.problem) return r;
      out.push(r.value);
    }
    return { value: out };
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const kr = checkString(k, false);
    if (kr) return { problem: { field: field || 'key', reason: kr } };
    const r = cleanInput(v, field ? `${field}.${k}` : k, depth + 1);
    if (r.problem) return r;
    // an own property even for a key like "__proto__": the copy never gets a different prototype
    Object.defineProperty(out, k, { value: r.value, enumerable: true, writable: true, configurable: true });
  }
  return { value: out };
}

const REASONS: Record<TextProblemReason, string> = {
  control: 'contains a control character',
  malformed: 'is not well-formed text (a lone UTF-16 surrogate)',
  invisible: 'contains an invisible or direction-changing character',
};

export function textError(p: TextProblem): AuthError {
  return new AuthError(ErrorCode.INVALID_CHARACTERS, `${p.field || 'the input'} ${REASONS[p.reason]}`, {
    field: p.field,
    reason: p.reason,
  });
}

/** cleanInput for callers that want the cleaned value or an INVALID_CHARACTERS error. */
export function cleanOrThrow<T>(value: T, field = ''): T {
  const r = cleanInput(value, field);
  if (r.problem) throw textError(r.problem);
  return r.value as T;
}
