/**
 * A software WebAuthn authenticator for system tests: an ES256 key pair from node:crypto, and
 * the registration ('none' attestation) and assertion payloads a browser would hand over after
 * talking to a platform authenticator. Built byte by byte after the WebAuthn Level 3 spec, so
 * the server's verification (@simplewebauthn/server) is exercised as with a real device.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

const b64url = (b: Uint8Array | string) => Buffer.from(b).toString('base64url');
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest();

/** Just enough CBOR (RFC 8949) for attestation objects and COSE keys. */
function cbor(value: unknown): Buffer {
  const head = (major: number, n: number): Buffer => {
    if (n < 24) return Buffer.from([(major << 5) | n]);
    if (n < 0x100) return Buffer.from([(major << 5) | 24, n]);
    if (n < 0x10000) return Buffer.from([(major << 5) | 25, n >> 8, n & 0xff]);
    const b = Buffer.alloc(5);
    b[0] = (major << 5) | 26;
    b.writeUInt32BE(n, 1);
    return b;
  };
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === 'string') {
    const s = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, s.length), s]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value]);
  if (value instanceof Map) {
    const parts = [head(5, value.size)];
    for (const [k, v] of value) parts.push(cbor(k), cbor(v));
    return Buffer.concat(parts);
  }
  throw new TypeError(`cbor: cannot encode ${typeof value}`);
}

export interface SoftPasskey {
  id: string;
  privateKey: KeyObject;
  counter: number;
}

export class SoftAuthenticator {
  constructor(
    readonly origin: string,
    readonly rpId = new URL(origin).hostname,
  ) {}

  private clientData(type: 'webauthn.create' | 'webauthn.get', challenge: string, origin = this.origin): string {
    return JSON.stringify({ type, challenge, origin, crossOrigin: false });
  }

  private authData(flags: number, counter: number, attested?: Buffer): Buffer {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    return Buffer.concat([sha256(this.rpId), Buffer.from([flags]), count, attested ?? Buffer.alloc(0)]);
  }

  /** A new key pair and the RegistrationResponseJSON for `options` (PublicKeyCredentialCreationOptionsJSON). */
  register(
    options: { challenge: string; rp: { id?: string } },
    opts: { origin?: string } = {},
  ): { passkey: SoftPasskey; response: Record<string, unknown> } {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const coseKey = cbor(
      new Map<number, unknown>([
        [1, 2], // kty: EC2
        [3, -7], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, Buffer.from(jwk.x as string, 'base64url')],
        [-3, Buffer.from(jwk.y as string, 'base64url')],
      ]),
    );
    const credId = randomBytes(32);
    const idLen = Buffer.alloc(2);
    idLen.writeUInt16BE(credId.length);
    const attested = Buffer.concat([Buffer.alloc(16) /* aaguid */, idLen, credId, coseKey]);
    const authData = this.authData(0x01 | 0x04 | 0x40, 0, attested); // user present, verified, attested data
    const attestationObject = cbor(
      new Map<string, unknown>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', authData],
      ]),
    );
    const id = b64url(credId);
    return {
      passkey: { id, privateKey, counter: 0 },
      response: {
        id,
        rawId: id,
        type: 'public-key',
        response: {
          clientDataJSON: b64url(this.clientData('webauthn.create', options.challenge, opts.origin)),
          attestationObject: b64url(attestationObject),
          transports: ['internal'],
        },
        clientExtensionResults: {},
        authenticatorAttachment: 'platform',
      },
    };
  }

  /** The AuthenticationResponseJSON for `options` (PublicKeyCredentialRequestOptionsJSON), signed by `key`. */
  assert(key: SoftPasskey, options: { challenge: string }, opts: { origin?: string; counter?: number } = {}): Record<string, unknown> {
    key.counter = opts.counter ?? key.counter + 1;
    const authData = this.authData(0x01 | 0x04, key.counter);
    const clientDataJSON = this.clientData('webauthn.get', options.challenge, opts.origin);
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), key.privateKey); // DER, as WebAuthn wants
    return {
      id: key.id,
      rawId: key.id,
      type: 'public-key',
      response: { clientDataJSON: b64url(clientDataJSON), authenticatorData: b64url(authData), signature: b64url(signature) },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }
}
