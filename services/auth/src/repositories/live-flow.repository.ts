/**
 * One live login and one live enrollment per account, across replicas: a row per (account,
 * kind) that a flow takes when it starts and gives back when it ends. The row is a lease: the
 * flow renews it while frames arrive (LIVE_FLOW_LEASE_MS), so a row whose time is up belongs to
 * a flow that stalled or whose replica died, and may be taken over a few seconds later.
 */
import type { Queryable } from '../db/database.js';

export type LiveFlowKind = 'login' | 'enroll';

/** How long a live flow keeps its slot without a frame. */
export const LIVE_FLOW_LEASE_MS = 5_000;
/** A flow renews its lease with the first frame this long after the last renewal. */
export const LIVE_FLOW_RENEW_AFTER_MS = 2_000;

export class LiveFlowRepository {
  /** True when the flow got the slot; false when another live flow of this kind holds it. */
  async acquire(q: Queryable, userId: string, kind: LiveFlowKind, flowId: string, ttlMs: number): Promise<boolean> {
    const { rows } = await q.query(
      `INSERT INTO live_flows (user_id, kind, flow_id, expires_at) VALUES ($1, $2, $3, now() + make_interval(secs => $4))
       ON CONFLICT (user_id, kind) DO UPDATE SET flow_id = EXCLUDED.flow_id, started_at = now(), expires_at = EXCLUDED.expires_at
       WHERE live_flows.expires_at < now()
       RETURNING flow_id`,
      [userId, kind, flowId, ttlMs / 1000],
    );
    return rows.length === 1;
  }

  /** Extends the lease of the flow that holds the slot; false when it no longer does. */
  async renew(q: Queryable, userId: string, kind: LiveFlowKind, flowId: string, ttlMs: number): Promise<boolean> {
    const { rows } = await q.query(
      `UPDATE live_flows SET expires_at = now() + make_interval(secs => $4)
       WHERE user_id = $1 AND kind = $2 AND flow_id = $3 RETURNING flow_id`,
      [userId, kind, flowId, ttlMs / 1000],
    );
    return rows.length === 1;
  }

  async release(q: Queryable, userId: string, kind: LiveFlowKind, flowId: string): Promise<void> {
    await q.query('DELETE FROM live_flows WHERE user_id = $1 AND kind = $2 AND flow_id = $3', [userId, kind, flowId]);
  }
}
