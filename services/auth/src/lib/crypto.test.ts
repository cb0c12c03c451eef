import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Sealer, bytesToEmbedding, embeddingToBytes, hashToken, keyFingerprint, randomToken } from './crypto.js';

test('sealed templates open only with the same key and the same row binding', () => {
  const key = randomBytes(32);
  const s = new Sealer(key, 'templates');
  const emb = Array.from({ length: 128 }, (_, i) => Math.sin(i) * 0.1);
  const plain = embeddingToBytes(emb);
  const { nonce, ciphertext } = s.seal(plain, 'template:1:u');
  assert.notDeepEqual(ciphertext.subarray(0, plain.length), plain, 'ciphertext is not the embedding');
  const back = bytesToEmbedding(s.open(nonce, ciphertext, 'template:1:u'));
  for (const [i, v] of emb.entries()) assert.ok(Math.abs(v - back[i]!) < 1e-7);
  assert.throws(() => s.open(nonce, ciphertext, 'template:1:other'), 'moved to another row');
  assert.throws(() => new Sealer(randomBytes(32), 'templates').open(nonce, ciphertext, 'template:1:u'), 'other key');
  assert.throws(() => new Sealer(key, 'signing-keys').open(nonce, ciphertext, 'template:1:u'), 'other purpose');
  const tampered = Buffer.from(ciphertext);
  tampered[0] = (tampered[0] as number) ^ 1;
  assert.throws(() => s.open(nonce, tampered, 'template:1:u'), 'tampered');
});

test('opaque tokens are random and stored as hashes', () => {
  const a = randomToken();
  assert.notEqual(a, randomToken());
  assert.ok(a.length >= 43);
  assert.equal(hashToken(a), hashToken(a));
  assert.notEqual(hashToken(a), a);
  assert.notEqual(keyFingerprint(randomBytes(32)), keyFingerprint(randomBytes(32)));
});
