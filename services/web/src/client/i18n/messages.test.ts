import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AuditEventType, ChallengeStep, ErrorCode, FeedbackCode } from '@faceline/contracts';
import { LANGUAGES, chooseLanguage, format, pickLanguage, type Messages } from './index.js';
import { describeProblem } from '../lib/problems.js';

const langs = Object.entries(LANGUAGES) as [string, Messages][];
const auditTypes = (AuditEventType as unknown as { anyOf: { const: string }[] }).anyOf.map((s) => s.const);

/** Every leaf string of a messages object, with its dotted path. */
function leaves(obj: unknown, prefix = ''): [string, string][] {
  if (typeof obj === 'string') return [[prefix, obj]];
  if (!obj || typeof obj !== 'object') return [[prefix, String(obj)]];
  return Object.entries(obj).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
}
const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('messages', () => {
  for (const [lang, m] of langs) {
    it(`${lang}: every error code from the contracts has a title and an explanation`, () => {
      for (const code of Object.values(ErrorCode)) {
        const e = m.errors[code];
        assert.ok(e, `${lang}: no message for ${code}`);
        assert.ok(e.title.trim().length > 2 && e.message.trim().length > 5, `${lang}: empty message for ${code}`);
      }
    });

    it(`${lang}: every feedback code, challenge step and audit event type has words`, () => {
      for (const code of Object.values(FeedbackCode)) assert.ok(m.feedback[code]?.trim(), `${lang}: feedback ${code}`);
      for (const step of Object.values(ChallengeStep)) assert.ok(m.steps[step]?.trim(), `${lang}: step ${step}`);
      assert.ok(auditTypes.length > 5);
      for (const t of auditTypes) assert.ok(m.audit[t as keyof Messages['audit']]?.trim(), `${lang}: audit ${t}`);
    });

    it(`${lang}: has no extra codes the contracts do not know (stale texts)`, () => {
      assert.deepEqual(Object.keys(m.errors).sort(), Object.values(ErrorCode).sort());
      assert.deepEqual(Object.keys(m.feedback).sort(), Object.values(FeedbackCode).sort());
    });

    it(`${lang}: every code turns into a described problem with a way forward`, () => {
      for (const code of Object.values(ErrorCode)) {
        const d = describeProblem({ kind: 'server', code }, m);
        assert.ok(d.title && d.message && d.next, `${lang}: ${code}`);
        assert.equal(d.title, m.errors[code].title);
      }
      for (const camera of ['denied', 'not-found', 'in-use', 'insecure', 'unsupported', 'failed'] as const) {
        const d = describeProblem({ kind: 'camera', camera }, m);
        assert.equal(d.title, m.cameraProblems[camera].title);
      }
    });
  }

  it('German differs from English and uses the same placeholders', () => {
    const en = new Map(leaves(LANGUAGES.en));
    const de = new Map(leaves(LANGUAGES.de));
    assert.deepEqual([...de.keys()].sort(), [...en.keys()].sort(), 'both languages have the same keys');
    let same = 0;
    for (const [key, text] of en) {
      const other = de.get(key) ?? '';
      assert.deepEqual(placeholders(other), placeholders(text), `placeholders differ at ${key}`);
      if (other === text) same++;
    }
    // A few strings are legitimately equal (the product name, "Kiosk", "{n} s"); most are not.
    assert.ok(same < 15, `${same} German strings are identical to English: untranslated?`);
  });

  it('picks the stored choice, then the browser language, then English', () => {
    assert.equal(pickLanguage(['de-AT', 'en'], null), 'de');
    assert.equal(pickLanguage(['fr-FR', 'de'], null), 'de');
    assert.equal(pickLanguage(['fr-FR'], null), 'en');
    assert.equal(pickLanguage(['de-DE'], 'en'), 'en');
    assert.equal(pickLanguage(['en-US'], 'xx'), 'en');
    assert.equal(pickLanguage([], 'de'), 'de');
  });

  it('a choice on this device beats the profile language, which beats the browser', () => {
    assert.equal(chooseLanguage({ stored: 'en', profileLocale: 'de-DE', browser: ['de'] }), 'en');
    assert.equal(chooseLanguage({ stored: null, profileLocale: 'de-AT', browser: ['en-US'] }), 'de');
    assert.equal(chooseLanguage({ stored: null, profileLocale: 'fr', browser: ['de-CH'] }), 'de');
    assert.equal(chooseLanguage({ stored: null, profileLocale: null, browser: ['it'] }), 'en');
  });

  it('formats placeholders and leaves unknown ones visible', () => {
    assert.equal(format('{n} of {total}', { n: 2, total: 3 }), '2 of 3');
    assert.equal(format('hello {name}', {}), 'hello {name}');
  });
});
