/**
 * Trusted kiosk devices. An administrator, signed in at the kiosk, trusts it: the browser gets
 * a random device credential in an httpOnly cookie; only its hash is stored. Logins from a
 * trusted device may pass account back-off and locks (the real person standing at the kiosk
 * must always be able to get in) and count as a stronger assurance level.
 */
import { randomUUID } from 'node:crypto';
import type { Database } from '../db/database.js';
import { hashToken, randomToken } from '../lib/crypto.js';
import type { DeviceRecord, DeviceRepository } from '../repositories/device.repository.js';
import type { AuditService } from './audit.service.js';
import type { ClientInfo } from './session.service.js';

/** The device id a credential names (not proof of anything: verify() checks the secret). */
export function deviceIdOf(credential: string | undefined): string | null {
  if (!credential) return null;
  const dot = credential.indexOf('.');
  const id = credential.slice(0, dot);
  return dot > 0 && /^[0-9a-f-]{36}$/.test(id) ? id : null;
}

export class DeviceService {
  constructor(
    private readonly db: Database,
    private readonly repo: DeviceRepository,
    private readonly audit: AuditService,
    /** where devices are trusted and revoked: this database, or the hub from a site (they are identities) */
    private readonly writer: Database = db,
  ) {}

  /** The device id a cookie value proves, or null (absent, malformed, unknown, revoked). */
  async verify(credential: string | undefined): Promise<string | null> {
    const id = deviceIdOf(credential);
    if (!id) return null;
    const secret = (credential as string).slice(id.length + 1);
    if (secret.length < 16 || secret.length > 200) return null;
    const d = await this.repo.verify(this.db, id, hashToken(secret));
    // "last seen" is bookkeeping: a login never waits for it, nor fails when the hub is away
    if (d) void this.repo.touch(this.writer, d.id).catch(() => undefined);
    return d?.id ?? null;
  }

  /** Trusts the device the request came from; returns the credential for its cookie. */
  async trust(name: string, adminId: string, client: ClientInfo): Promise<{ device: DeviceRecord; credential: string }> {
    const secret = randomToken();
    const device = await this.repo.create(this.writer, { id: randomUUID(), name, secretHash: hashToken(secret), createdBy: adminId });
    await this.audit.record({
      type: 'device.trusted',
      outcome: 'success',
      actorId: adminId,
      ip: client.ip,
      userAgent: client.userAgent,
      details: { deviceId: device.id, name },
    });
    return { device, credential: `${device.id}.${secret}` };
  }

  list(): Promise<DeviceRecord[]> {
    return this.repo.list(this.db);
  }

  async revoke(id: string, adminId: string, client: ClientInfo): Promise<boolean> {
    const done = await this.repo.revoke(this.writer, id);
    if (done)
      await this.audit.record({
        type: 'device.revoked',
        outcome: 'success',
        actorId: adminId,
        ip: client.ip,
        userAgent: client.userAgent,
        details: { deviceId: id },
      });
    return done;
  }
}
