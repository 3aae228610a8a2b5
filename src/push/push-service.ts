/**
 * The push subsystem assembled from its settings: the senders of the platforms that are
 * configured, the device API, and the dispatcher that delivers.
 */
import type { PubSub } from '../backbone/pubsub.ts';
import type { PushConfig } from '../config/load.ts';
import type { Database } from '../db/client.ts';
import type { PushPlatform } from '../domain/push.ts';
import type { Logger } from '../logging/logger.ts';
import type { LogReader } from '../streams/event-log.ts';
import type { OutboundPolicy } from '../webhooks/address-rules.ts';
import { ApnsSender } from './apns-sender.ts';
import { FcmSender } from './fcm-sender.ts';
import type { PushSender } from './push-outcome.ts';
import { PushDevices } from './push-devices.ts';
import { PushDispatcher, type PushObserver } from './push-dispatcher.ts';
import { PushStore } from './push-store.ts';
import { vapidKeys } from './vapid-keys.ts';
import { WebPushSender } from './web-push-sender.ts';

export interface PushService {
  devices: PushDevices;
  dispatcher: PushDispatcher;
  webPushPublicKey: string | null;
  platforms: ReadonlySet<PushPlatform>;
}

export interface PushDeps {
  db: Database;
  log: LogReader;
  pubsub: PubSub;
  logger: Logger;
  observer?: PushObserver;
  /** The webhook outbound rules, which Web Push endpoints pass too. */
  policy: OutboundPolicy;
  /** Where development VAPID keys are kept; null on PostgreSQL. */
  embedded: { dataDir: string } | null;
  maxMessageBytes: number;
  roundIntervalMs: number;
}

export async function createPush(config: PushConfig, deps: PushDeps): Promise<PushService> {
  const ttlSeconds = Math.floor(config.ttlMs / 1000);
  const connections = Math.min(64, config.concurrency);
  const senders: Partial<Record<PushPlatform, PushSender>> = {};
  const vapid = await vapidKeys(config.webPush, deps.embedded);
  if (vapid) senders.WEB_PUSH = new WebPushSender({ vapid, policy: deps.policy, timeoutMs: config.timeoutMs, ttlSeconds, maxSockets: connections });
  if (config.fcm.serviceAccount) {
    const account = config.fcm.serviceAccount;
    senders.FCM = new FcmSender({ account, apiUrl: config.fcm.apiUrl ?? 'https://fcm.googleapis.com', tokenUrl: config.fcm.tokenUrl ?? account.tokenUri, timeoutMs: config.timeoutMs, ttlSeconds, maxSockets: connections });
  }
  const apns = config.apns;
  if (apns.key && apns.keyId && apns.teamId && apns.topic) {
    senders.APNS = new ApnsSender({ key: apns.key, keyId: apns.keyId, teamId: apns.teamId, topic: apns.topic, host: apns.host ?? 'https://api.push.apple.com', ca: apns.ca, timeoutMs: config.timeoutMs, ttlSeconds });
  }
  const platforms = new Set(Object.keys(senders) as PushPlatform[]);
  const dispatcher = new PushDispatcher(
    new PushStore(deps.db),
    deps.log,
    senders,
    { pubsub: deps.pubsub, logger: deps.logger, observer: deps.observer, maxMessageBytes: deps.maxMessageBytes },
    { deliver: config.deliver, leaseTtlMs: config.leaseTtlMs, retryScheduleMs: config.retryScheduleMs, concurrency: config.concurrency, batchSize: config.batchSize, roundIntervalMs: deps.roundIntervalMs },
  );
  const devices = new PushDevices(deps.db, { maxPerOwner: config.maxDevicesPerOwner, platforms, policy: deps.policy, onAdded: () => dispatcher.nudge() });
  return { devices, dispatcher, webPushPublicKey: vapid?.publicKey ?? null, platforms };
}
