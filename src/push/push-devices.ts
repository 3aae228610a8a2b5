/**
 * The push device API: a person registers the devices that receive their notifications
 * (with their own user token), lists and removes them. Registering a device again (the
 * same browser subscription or token, as apps do at every start) updates it in place and
 * keeps its position.
 */
import { randomUUID } from 'node:crypto';
import { and, asc, count, eq, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { owners, pushDeadLetters, pushDevices } from '../db/schema.ts';
import { DomainError, ErrorCode, badInput } from '../domain/errors.ts';
import type { EventType } from '../domain/events.ts';
import type { PushPlatform } from '../domain/push.ts';
import { isUuid } from '../domain/shape.ts';
import { checkUrl, OutboundRefused, type OutboundPolicy } from '../webhooks/address-rules.ts';
import { OPT_IN_TYPES } from './push-message.ts';
import type { DeviceRow } from './push-store.ts';

/** What a person registers. */
export interface DeviceInput {
  platform: PushPlatform;
  /** FCM registration token or APNs device token. */
  token?: string | null;
  /** A browser's PushSubscription. */
  webPush?: { endpoint: string; p256dh: string; auth: string } | null;
  /** Event types pushed besides notifications. */
  types?: readonly EventType[] | null;
  label?: string | null;
}

export interface DeviceSettings {
  maxPerOwner: number;
  /** The platforms this server can push to (configured). */
  platforms: ReadonlySet<PushPlatform>;
  /** The outbound rules a Web Push endpoint must pass. */
  policy: OutboundPolicy;
  /** Told when a device is added, so this instance can take it at once. */
  onAdded?: () => void;
}

const FCM_TOKEN = /^[A-Za-z0-9_:.\-]{16,4096}$/;
const APNS_TOKEN = /^[0-9a-fA-F]{32,200}$/;

export class PushDevices {
  constructor(
    private readonly db: Database,
    private readonly settings: DeviceSettings,
  ) {}

  /** Registers (or updates) a device of `ownerId`; it is pushed what commits from now on. */
  async register(ownerId: string, input: DeviceInput, now: Date): Promise<DeviceRow> {
    const checked = await this.check(input);
    const device = await this.db.transaction(async (tx) => {
      // The owner's head: a new device starts after it. Locking it also orders concurrent registrations of one owner for the bound.
      const [owner] = await tx.select({ head: owners.lastSequence, tenant: owners.tenantId }).from(owners).where(eq(owners.ownerId, ownerId)).for('update');
      if (!owner) throw badInput('this owner has no wallet yet; a device receives the notifications of an owner with wallets', 'platform');
      const [existing] = await tx
        .select()
        .from(pushDevices)
        .where(and(eq(pushDevices.ownerId, ownerId), eq(pushDevices.platform, checked.platform), eq(pushDevices.address, checked.address)));
      if (existing) {
        const [updated] = await tx
          .update(pushDevices)
          .set({ p256dh: checked.p256dh, auth: checked.auth, types: checked.types, label: checked.label, updatedAt: now })
          .where(eq(pushDevices.id, existing.id))
          .returning();
        return updated!;
      }
      const [{ n }] = (await tx.select({ n: count() }).from(pushDevices).where(eq(pushDevices.ownerId, ownerId))) as [{ n: number }];
      if (Number(n) >= this.settings.maxPerOwner) {
        throw new DomainError(ErrorCode.LIMIT_EXCEEDED, `owner ${ownerId} already has ${this.settings.maxPerOwner} push devices; unregister one first`, { limit: this.settings.maxPerOwner });
      }
      const [created] = await tx
        .insert(pushDevices)
        .values({ id: randomUUID(), ownerId, tenantId: owner.tenant, ...checked, sequence: owner.head, createdAt: now, updatedAt: now })
        .returning();
      return created!;
    });
    this.settings.onAdded?.();
    return device;
  }

  /** The owner's devices, oldest first. */
  list(ownerId: string): Promise<DeviceRow[]> {
    return this.db.select().from(pushDevices).where(eq(pushDevices.ownerId, ownerId)).orderBy(asc(pushDevices.createdAt), asc(pushDevices.id));
  }

  /** Removes one of the owner's devices and returns it; NOT_FOUND when it is not theirs or gone. */
  async unregister(ownerId: string, id: string): Promise<DeviceRow> {
    const [gone] = isUuid(id) ? await this.db.delete(pushDevices).where(and(eq(pushDevices.id, id), eq(pushDevices.ownerId, ownerId))).returning() : [];
    if (!gone) throw new DomainError(ErrorCode.NOT_FOUND, `push device ${id} does not exist`, { deviceId: id });
    return gone;
  }

  /** Dead letters per device. */
  async deadLetters(deviceIds: readonly string[]): Promise<Map<string, number>> {
    if (deviceIds.length === 0) return new Map();
    const rows = await this.db
      .select({ id: pushDeadLetters.deviceId, n: count() })
      .from(pushDeadLetters)
      .where(sql`${pushDeadLetters.deviceId} in (select (jsonb_array_elements_text(${JSON.stringify(deviceIds)}::jsonb))::uuid)`)
      .groupBy(pushDeadLetters.deviceId);
    return new Map(rows.map((row) => [row.id, Number(row.n)]));
  }

  private async check(input: DeviceInput) {
    const { platform } = input;
    if (!this.settings.platforms.has(platform)) {
      throw new DomainError(ErrorCode.BAD_USER_INPUT, `${platform} push is not configured on this server`, { field: 'platform', reason: 'not-configured' });
    }
    const types = input.types?.length ? [...new Set(input.types)] : null;
    const refused = types?.find((type) => !OPT_IN_TYPES.includes(type));
    if (refused) throw badInput(`types: ${refused} cannot be opted into (notifications are always pushed; choose from ${OPT_IN_TYPES.join(', ')})`, 'types');
    const label = input.label?.trim() ? input.label.trim() : null;
    if (label && (label.length > 128 || /[\u0000-\u001f\u007f]/.test(label))) throw badInput('label must be at most 128 characters, without control characters', 'label');
    if (platform === 'WEB_PUSH') {
      const sub = input.webPush;
      if (!sub || input.token) throw badInput('a WEB_PUSH device gives webPush (the PushSubscription: endpoint, p256dh, auth) and no token', 'webPush');
      try {
        await checkUrl(sub.endpoint, this.settings.policy);
      } catch (error) {
        if (error instanceof OutboundRefused || error instanceof DomainError) throw new DomainError(ErrorCode.BAD_USER_INPUT, `webPush.endpoint: ${(error as Error).message}`, { field: 'webPush.endpoint', reason: 'outbound-refused' });
        throw error;
      }
      const key = Buffer.from(sub.p256dh, 'base64url');
      if (key.length !== 65 || key[0] !== 4) throw badInput('webPush.p256dh must be an uncompressed P-256 public key (65 bytes, base64url)', 'webPush.p256dh');
      if (Buffer.from(sub.auth, 'base64url').length !== 16) throw badInput('webPush.auth must be 16 bytes, base64url', 'webPush.auth');
      return { platform, address: sub.endpoint, p256dh: sub.p256dh, auth: sub.auth, types, label };
    }
    if (input.webPush || !input.token) throw badInput(`a ${platform} device gives its token and no webPush`, 'token');
    if (!(platform === 'FCM' ? FCM_TOKEN : APNS_TOKEN).test(input.token)) throw badInput(platform === 'FCM' ? 'token is not an FCM registration token' : 'token is not an APNs device token (hex)', 'token');
    return { platform, address: input.token, p256dh: null, auth: null, types, label };
  }
}
