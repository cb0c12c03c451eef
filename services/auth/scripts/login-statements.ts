/**
 * Counts the SQL statements of one successful face login (liveness off, one frontal frame, as
 * bench:load drives it): login:start, the frame, the grant exchanged for a session. Runs the
 * real services on in-memory PGlite with a scripted vision client and prints each statement
 * with the step it belongs to.
 *
 *   node --conditions=source --import tsx services/auth/scripts/login-statements.ts [verify|identify]
 */
import { openFlowHarness } from '../src/testing/flow-harness.js';
import { descriptorOf } from '../src/testing/scripted-vision.js';

const mode = process.argv[2] === 'identify' ? 'identify' : 'verify';
const h = await openFlowHarness({ liveness: false, kiosk: true });
const user = await h.addUser([descriptorOf(0)]);
const client = h.client();
const { login } = h.flows({ liveness: false });

let step = '';
const seen: { step: string; sql: string }[] = [];
const db = h.db as unknown as { query: typeof h.db.query; tx: typeof h.db.tx };
const query = db.query.bind(h.db);
const tx = db.tx.bind(h.db);
db.query = ((sql: string, params?: unknown[]) => {
  seen.push({ step, sql });
  return query(sql, params);
}) as typeof h.db.query;
db.tx = ((fn) =>
  tx((q) => {
    seen.push({ step, sql: 'BEGIN … COMMIT (one transaction)' });
    return fn({
      query: (sql: string, params?: unknown[]) => {
        seen.push({ step, sql: `  in tx: ${sql}` });
        return q.query(sql, params);
      },
    } as typeof q);
  })) as typeof h.db.tx;

step = 'login:start';
const flow = await login.start(mode === 'verify' ? { mode, username: user.username } : { mode }, client);
step = 'frame';
h.vision.push([{ embedding: descriptorOf(0) }]);
h.clock.advance(130);
const out = await login.frame(flow, 1, new Uint8Array([0xff, 0xd8, 0xff]), client);
if (!out.final?.ok) throw new Error(`the login did not succeed: ${JSON.stringify(out.final)}`);
step = 'exchange';
// as the session route calls it: with the WebAuthn site, so that an administrator could be asked for a passkey
await h.ctx.sessions.exchangeGrant(out.final.grant, client, { site: { rpId: 'localhost', origin: 'http://localhost:8080' } });

const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();
for (const s of seen) console.log(`${s.step.padEnd(12)} ${oneLine(s.sql).slice(0, 150)}`);
const statements = seen.filter((s) => !s.sql.startsWith('BEGIN')).length;
const calls = seen.filter((s) => !s.sql.startsWith('  in tx')).length;
console.log(
  `\n${mode}: ${statements} statements in ${calls} calls (a transaction is one call here; on PostgreSQL it adds BEGIN and COMMIT)`,
);
for (const name of ['login:start', 'frame', 'exchange']) console.log(`  ${name}: ${seen.filter((s) => s.step === name).length}`);
await h.close();
