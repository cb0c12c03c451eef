/**
 * npm run bench:oidc [-- --quick]
 *
 * Sign in with Faceline on one auth replica (PostgreSQL at TEST_DATABASE_URL when reachable,
 * otherwise PGlite), openid-client as the relying party, one request at a time and then with
 * several relying parties at once:
 *   - the browser's part of a sign-in with a provider session already there (authorize → code),
 *   - the token endpoint (code + PKCE verifier + client_secret_basic → ID, access, refresh token),
 *   - userinfo, a refresh-token grant, the discovery document,
 *   - rebuilding the provider after a key change.
 * The face login itself is measured by bench:auth; here the browser holds a Faceline session.
 */
import pg from 'pg';
import { ACR } from '@faceline/contracts';
import * as client from 'openid-client';
import { TEST_DATABASE_URL, createStore, type Backend } from '../test/support/auth.js';
import { FakeBrowser } from '../test/support/oidc-browser.js';
import { RP, SECRET, startOidcReplica } from '../test/support/oidc-replica.js';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 40 : 200;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
};
const line = (name: string, xs: number[]) =>
  console.log(
    `${name.padEnd(44)} p50 ${pct(xs, 50).toFixed(1).padStart(6)} ms   p95 ${pct(xs, 95).toFixed(1).padStart(6)} ms   (${xs.length})`,
  );

async function backend(): Promise<Backend> {
  const c = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.end();
    return 'postgres';
  } catch {
    return 'pglite';
  }
}

async function timed<T>(xs: number[], fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const r = await fn();
  xs.push(performance.now() - t0);
  return r;
}

async function main(): Promise<void> {
  const kind = await backend();
  const store = await createStore(kind);
  const replica = await startOidcReplica(store, undefined);
  const issuer = replica.url;
  console.log(`Sign in with Faceline: one auth replica on ${kind}, node ${process.version}`);
  try {
    const rp = await client.discovery(new URL(issuer), 'dashboard', undefined, client.ClientSecretBasic(SECRET), {
      execute: [client.allowInsecureRequests],
    });
    const info = { ip: '127.0.0.1', userAgent: 'bench', deviceId: null };
    const { user } = await replica.ctx.users.register({ username: 'bench', displayName: 'Bench' }, info);

    /** A browser with a provider session: the first sign-in goes through the interaction. */
    async function signedInBrowser(): Promise<FakeBrowser> {
      const b = new FakeBrowser(issuer);
      const { grant } = await replica.ctx.sessions.issueGrant(
        user.id,
        'verify',
        { liveness: true, amr: ['face'], acr: ACR.FACE_LIVENESS, deviceId: null },
        info,
      );
      b.setCookie('faceline_access', (await replica.ctx.sessions.exchangeGrant(grant, info)).accessToken);
      const first = await b.navigate(await authorizationUrl().then((a) => a.url));
      const uid = new URL(first.location ?? first.url).searchParams.get('uid') as string;
      const done = await b.request('POST', `${issuer}/oidc/interaction/${uid}/login`, { json: {} });
      await b.navigate(JSON.parse(done.body).redirectTo as string);
      return b;
    }
    async function authorizationUrl() {
      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = client.randomNonce();
      const url = client.buildAuthorizationUrl(rp, {
        redirect_uri: `${RP}/cb`,
        scope: 'openid profile groups',
        state,
        nonce,
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      });
      return { url, verifier, state, nonce };
    }

    const front: number[] = [];
    const token: number[] = [];
    const userinfo: number[] = [];
    const refresh: number[] = [];
    const discovery: number[] = [];
    const browser = await signedInBrowser();
    for (let i = 0; i < ROUNDS + 5; i++) {
      const warm = i < 5; // JIT and connection pool
      const req = await authorizationUrl();
      const hop = await timed(warm ? [] : front, () => browser.navigate(req.url));
      const callback = new URL(hop.location as string);
      const tokens = await timed(warm ? [] : token, () =>
        client.authorizationCodeGrant(rp, callback, { pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce }),
      );
      await timed(warm ? [] : userinfo, () => client.fetchUserInfo(rp, tokens.access_token, user.id));
      await timed(warm ? [] : refresh, () => client.refreshTokenGrant(rp, tokens.refresh_token as string));
      await timed(warm ? [] : discovery, () => fetch(`${issuer}/.well-known/openid-configuration`).then((r) => r.json()));
    }
    console.log('\none at a time');
    line('authorize → code (provider session exists)', front);
    line('token endpoint: code exchange', token);
    line('userinfo', userinfo);
    line('token endpoint: refresh (rotating)', refresh);
    line('discovery document', discovery);

    for (const parallel of [4, 16]) {
      const browsers = await Promise.all(Array.from({ length: parallel }, () => signedInBrowser()));
      const exchanges: number[] = [];
      const t0 = performance.now();
      const per = Math.max(5, Math.floor(ROUNDS / parallel));
      await Promise.all(
        browsers.map(async (b) => {
          for (let i = 0; i < per; i++) {
            const req = await authorizationUrl();
            const hop = await b.navigate(req.url);
            await timed(exchanges, () =>
              client.authorizationCodeGrant(rp, new URL(hop.location as string), {
                pkceCodeVerifier: req.verifier,
                expectedState: req.state,
                expectedNonce: req.nonce,
              }),
            );
          }
        }),
      );
      const seconds = (performance.now() - t0) / 1000;
      console.log(
        `\n${parallel} relying parties at once: ${(exchanges.length / seconds).toFixed(1)} complete sign-ins/s (authorize + code exchange)`,
      );
      line('token endpoint: code exchange', exchanges);
    }

    const rebuild: number[] = [];
    for (let i = 0; i < 5; i++) {
      await replica.ctx.db.query(`UPDATE signing_keys SET retire_at = now() WHERE retire_at > now() AND alg = 'ES256'`);
      await replica.ctx.tokens.ensureCurrentKey();
      await fetch(`${issuer}/.well-known/openid-configuration`);
      rebuild.push(replica.ctx.oidc?.lastBuildMs ?? NaN);
    }
    console.log('');
    line('provider rebuilt after a key change', rebuild);
  } finally {
    await replica.stop();
    await store.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
