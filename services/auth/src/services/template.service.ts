/**
 * Face templates: encrypted on the way into the database, decrypted on the way out, and
 * mirrored into the in-memory 1:N index. Every change is announced with NOTIFY; every replica
 * LISTENs and reloads that user's templates, and reloads everything after a reconnect or on a
 * timer, in case a notification was lost. At a site, writes go to the hub (`writer`) and come
 * back by replication, whose apply notifies through a trigger (migration 0005) the same way.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Database, Queryable } from '../db/database.js';
import { type Sealer, bytesToEmbedding, embeddingToBytes } from '../lib/crypto.js';
import {
  TEMPLATE_CHANNEL,
  type StoredTemplate,
  type TemplateQuality,
  type TemplateRepository,
} from '../repositories/template.repository.js';
import { FaceIndex } from './face-index.js';

export const TEMPLATE_KEY_VERSION = 1;

export interface PlainTemplate {
  id: string;
  embedding: Float32Array;
}

export class TemplateService {
  readonly index = new FaceIndex();
  private unlisten: (() => Promise<void>) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pending = new Set<string>();
  private draining: Promise<void> | undefined;

  constructor(
    private readonly db: Database,
    private readonly repo: TemplateRepository,
    private readonly sealer: Sealer,
    private readonly log: Logger,
    private readonly onIndexChange: (size: number) => void = () => undefined,
    /** where template writes go: this database, or the hub from a site */
    private readonly writer: Database = db,
  ) {}

  private aad(t: { id: string; userId: string }): string {
    return `template:${t.id}:${t.userId}`;
  }

  decrypt(t: StoredTemplate): PlainTemplate {
    return { id: t.id, embedding: bytesToEmbedding(this.sealer.open(t.nonce, t.ciphertext, this.aad(t))) };
  }

  async forUser(userId: string, q: Queryable = this.db): Promise<PlainTemplate[]> {
    return (await this.repo.listByUser(q, userId)).map((t) => this.decrypt(t));
  }

  /**
   * Replaces a user's templates in one transaction; the index follows on commit. `guard` runs
   * first in the same transaction (e.g. using up the enrollment ticket) and may throw to abort.
   */
  async replaceForUser(
    userId: string,
    embeddings: { embedding: ArrayLike<number>; quality: TemplateQuality }[],
    guard?: (q: Queryable) => Promise<void>,
  ): Promise<PlainTemplate[]> {
    const plain: PlainTemplate[] = [];
    await this.writer.tx(async (q) => {
      if (guard) await guard(q);
      await this.repo.deleteByUser(q, userId);
      for (const e of embeddings) {
        const id = randomUUID();
        const sealed = this.sealer.seal(embeddingToBytes(e.embedding), this.aad({ id, userId }));
        await this.repo.insert(q, { id, userId, keyVersion: TEMPLATE_KEY_VERSION, ...sealed, quality: e.quality });
        plain.push({ id, embedding: Float32Array.from(e.embedding) });
      }
      await this.repo.notifyChanged(q, userId);
    });
    this.index.replaceUser(userId, plain);
    this.onIndexChange(this.index.size);
    return plain;
  }

  /** For callers that delete inside their own transaction (account deletion). */
  async deleteForUserIn(q: Queryable, userId: string): Promise<number> {
    const n = await this.repo.deleteByUser(q, userId);
    await this.repo.notifyChanged(q, userId);
    return n;
  }

  forgetLocally(userId: string): void {
    this.index.removeUser(userId);
    this.onIndexChange(this.index.size);
  }

  async loadAll(): Promise<void> {
    const started = performance.now();
    const rows = await this.repo.listAll(this.db);
    const plain: { id: string; userId: string; embedding: Float32Array }[] = [];
    let failed = 0;
    for (const t of rows) {
      try {
        plain.push({ id: t.id, userId: t.userId, embedding: this.decrypt(t).embedding });
      } catch {
        failed++;
      }
    }
    // refill in place: holders of `index` keep their reference
    this.index.clear();
    for (const p of plain) this.index.add(p.id, p.userId, p.embedding);
    if (failed) this.log.error({ failed }, 'some face templates could not be decrypted (wrong FACELINE_MASTER_KEY?)');
    this.log.info({ templates: this.index.size, users: this.index.users, ms: Math.round(performance.now() - started) }, 'loaded 1:N index');
    this.onIndexChange(this.index.size);
  }

  async startSync(resyncSeconds: number): Promise<void> {
    this.unlisten = await this.db.listen(TEMPLATE_CHANNEL, (payload) => {
      if (payload === null) {
        void this.loadAll().catch((err) => this.log.error({ err: (err as Error).message }, 'index reload failed'));
        return;
      }
      try {
        const { userId } = JSON.parse(payload) as { userId?: unknown };
        if (typeof userId === 'string') this.schedule(userId);
      } catch {
        this.log.warn('ignored a malformed template notification');
      }
    });
    if (resyncSeconds > 0) {
      this.timer = setInterval(() => {
        void this.loadAll().catch((err) => this.log.error({ err: (err as Error).message }, 'index resync failed'));
      }, resyncSeconds * 1000);
      this.timer.unref();
    }
  }

  /** Notifications for one user arriving in a burst are coalesced into one reload. */
  private schedule(userId: string): void {
    this.pending.add(userId);
    this.draining ??= (async () => {
      try {
        while (this.pending.size) {
          const [next] = this.pending;
          this.pending.delete(next as string);
          await this.reloadUser(next as string);
        }
      } finally {
        this.draining = undefined;
      }
    })();
  }

  /** Resolves when every notification received so far has been applied (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async reloadUser(userId: string): Promise<void> {
    try {
      const templates = await this.forUser(userId);
      this.index.replaceUser(userId, templates);
      this.onIndexChange(this.index.size);
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'could not reload templates of one user');
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.unlisten?.();
    await this.settled();
  }
}
