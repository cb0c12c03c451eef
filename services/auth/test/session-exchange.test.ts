/**
 * The grant-to-session exchange is one SQL statement: on PostgreSQL 15 and on PGlite it must keep
 * the guarantees of the transaction it replaced. A grant works once, also when two exchanges
 * race; an expired or unknown grant is refused, as is the grant of a deleted account; the
 * session and its refresh token are both written, and the refresh token works.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '@faceline/contracts';
import { AuthError } from '../src/errors.js';
import { TEST_CLIENT, createStore, faceProof, startReplica, type Backend, type Replica, type Store } from './support/auth.js';

const client = TEST_CLIENT;

for (const backend of ['postgres', 'pglite'] as Backend[]) {
  let store: Store;
  let replica: Replica;
  before(async () => {
    store = await createStore(backend);
    // vision is never called here
    replica = await startReplica(store, 'http://127.0.0.1:9');
  });
  after(async () => {
    await replica?.stop();
    await store?.drop();
  });

  const code = (c: string) => (e: unknown) => e instanceof AuthError && e.code === c;

  test(`${backend}: a grant becomes one session with its refresh token, once, also under a race`, async () => {
    const { ctx } = replica;
    const { user } = await ctx.users.register({ username: `race-${backend}`, displayName: 'Race' }, client);
    const { grant } = await ctx.sessions.issueGrant(user.id, 'verify', faceProof(true), client);
    const tries = await Promise.allSettled(Array.from({ length: 6 }, () => ctx.sessions.exchangeGrant(grant, client)));
    const won = tries.filter((t) => t.status === 'fulfilled');
    assert.equal(won.length, 1, 'exactly one exchange wins');
    for (const t of tries) if (t.status === 'rejected') assert.ok(code(ErrorCode.TOKEN_INVALID)(t.reason), String(t.reason));
    const s = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof ctx.sessions.exchangeGrant>>>).value;
    assert.equal(s.user.id, user.id);
    assert.equal(s.user.username, `race-${backend}`);
    assert.equal(s.session.userId, user.id);
    assert.equal(s.session.liveness, true);
    assert.ok(s.session.expiresAt.getTime() > Date.now());
    const { rows } = await ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM refresh_tokens WHERE session_id = $1', [
      s.session.id,
    ]);
    assert.equal(rows[0]?.n, 1);
    // the refresh token it handed out works
    const next = await ctx.sessions.refresh(s.refreshToken, client);
    assert.equal(next.session.id, s.session.id);
  });

  test(`${backend}: unknown and expired grants and the grants of a deleted account are refused`, async () => {
    const { ctx } = replica;
    await assert.rejects(ctx.sessions.exchangeGrant('not-a-grant', client), code(ErrorCode.TOKEN_INVALID));
    const { user } = await ctx.users.register({ username: `gone-${backend}`, displayName: 'Gone' }, client);
    const { grant } = await ctx.sessions.issueGrant(user.id, 'identify', faceProof(false), client);
    const expired = await ctx.sessions.issueGrant(user.id, 'verify', faceProof(false), client);
    await ctx.db.query(
      `UPDATE login_grants SET expires_at = now() - interval '1 second' WHERE used_at IS NULL AND mode = 'verify' AND user_id = $1`,
      [user.id],
    );
    await assert.rejects(ctx.sessions.exchangeGrant(expired.grant, client), code(ErrorCode.TOKEN_INVALID));
    // deleting the account takes its grants with it (ON DELETE CASCADE): the exchange finds nothing
    await ctx.db.query('DELETE FROM users WHERE id = $1', [user.id]);
    await assert.rejects(ctx.sessions.exchangeGrant(grant, client), code(ErrorCode.TOKEN_INVALID));
    const { rows } = await ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM sessions WHERE user_id = $1', [user.id]);
    assert.equal(rows[0]?.n, 0);
  });
}
