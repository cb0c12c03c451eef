/**
 * oidc-provider's storage adapter over PostgreSQL / PGlite: every model (Session, Interaction,
 * AuthorizationCode, AccessToken, RefreshToken, Grant, …) in the one `oidc_payloads` table, so
 * any replica continues any flow and a restart loses nothing. Nothing is kept in memory.
 */
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Database } from '../db/database.js';
import type { OidcRepository } from '../repositories/oidc.repository.js';

/** oidc-provider instantiates one adapter per model name: `new (adapterFor(db, repo))(name)`. */
export function adapterFor(db: Database, repo: OidcRepository): new (model: string) => Adapter {
  return class PostgresAdapter implements Adapter {
    constructor(private readonly model: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      await repo.upsert(db, {
        model: this.model,
        id,
        payload: payload as Record<string, unknown>,
        grantId: payload.grantId,
        uid: payload.uid,
        userCode: payload.userCode,
        expiresInSeconds: typeof expiresIn === 'number' && Number.isFinite(expiresIn) ? expiresIn : undefined,
      });
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      return withConsumed(await repo.find(db, this.model, id));
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return withConsumed(await repo.findBy(db, this.model, 'uid', uid));
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return withConsumed(await repo.findBy(db, this.model, 'user_code', userCode));
    }

    async consume(id: string): Promise<void> {
      await repo.consume(db, this.model, id);
    }

    async destroy(id: string): Promise<void> {
      await repo.destroy(db, this.model, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await repo.revokeByGrantId(db, this.model, grantId);
    }
  };
}

function withConsumed(found: { payload: Record<string, unknown>; consumed: number | undefined } | undefined): AdapterPayload | undefined {
  if (!found) return undefined;
  return (found.consumed === undefined ? found.payload : { ...found.payload, consumed: found.consumed }) as AdapterPayload;
}
