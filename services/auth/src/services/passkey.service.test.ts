import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { claimedChallenge } from './passkey.service.js';

const answer = (clientData: unknown) => ({
  id: 'x',
  response: { clientDataJSON: Buffer.from(typeof clientData === 'string' ? clientData : JSON.stringify(clientData)).toString('base64url') },
});

describe('passkey answers', () => {
  it('reads the challenge an answer claims to respond to, and nothing from malformed answers', () => {
    assert.equal(claimedChallenge(answer({ type: 'webauthn.get', challenge: 'abc_-1', origin: 'https://x' })), 'abc_-1');
    assert.equal(claimedChallenge(answer({ type: 'webauthn.get' })), undefined, 'no challenge');
    assert.equal(claimedChallenge(answer({ challenge: 42 })), undefined, 'not a string');
    assert.equal(claimedChallenge(answer({ challenge: 'c'.repeat(201) })), undefined, 'absurdly long');
    assert.equal(claimedChallenge(answer('not json')), undefined);
    assert.equal(claimedChallenge({ response: { clientDataJSON: 'a'.repeat(5000) } }), undefined, 'oversized client data is not parsed');
    for (const junk of [null, undefined, 42, 'str', {}, { response: null }, { response: { clientDataJSON: 7 } }])
      assert.equal(claimedChallenge(junk), undefined);
  });
});
