/**
 * Languages: English and German. The browser's language decides unless the person chose
 * one (kept in localStorage). To add a language, add a file like de.ts and list it here;
 * the compiler and the unit tests refuse a language with a missing text.
 */
import type { Messages } from './types.js';
import { en } from './en.js';
import { de } from './de.js';

export const LANGUAGES = { en, de } as const satisfies Record<string, Messages>;
export type Lang = keyof typeof LANGUAGES;
export const DEFAULT_LANG: Lang = 'en';

export function isLang(value: unknown): value is Lang {
  return typeof value === 'string' && Object.hasOwn(LANGUAGES, value);
}

/** First supported language among the browser's preferences ("de-AT" counts as "de"). */
export function pickLanguage(preferences: readonly string[], stored?: string | null): Lang {
  if (isLang(stored)) return stored;
  for (const tag of preferences) {
    const base = tag.toLowerCase().split('-')[0];
    if (isLang(base)) return base;
  }
  return DEFAULT_LANG;
}

/**
 * The language to show: a choice made on this device wins, then the signed-in person's
 * profile language, then the browser's languages, then English.
 */
export function chooseLanguage(opts: { stored?: string | null; profileLocale?: string | null; browser: readonly string[] }): Lang {
  if (isLang(opts.stored)) return opts.stored;
  const fromProfile = opts.profileLocale?.toLowerCase().split('-')[0];
  if (isLang(fromProfile)) return fromProfile;
  return pickLanguage(opts.browser, null);
}

/** Replaces {name} placeholders; unknown ones stay visible so that a mistake is noticed. */
export function format(template: string, params: Record<string, string | number> = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => (key in params ? String(params[key]) : whole));
}

export type { Messages, CameraProblem, ClientCode, Explained } from './types.js';
