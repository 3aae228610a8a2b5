/**
 * Web Push (RFC 8030) with VAPID (RFC 8292) and `aes128gcm` payload encryption (RFC 8291),
 * both from the `web-push` package; the request itself goes through our own agents, whose
 * connect-time checks apply the webhook outbound rules to the endpoint a browser gave us.
 * Push services are few (each browser vendor has one), so one VAPID token per service is
 * kept until near its expiry.
 */
import { isIP } from 'node:net';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import webPush from 'web-push';
import type { PushMessage } from '../domain/push.ts';
import { assertAddressAllowed, guardedLookup, type OutboundPolicy } from '../webhooks/address-rules.ts';
import { httpPost } from './http-post.ts';
import type { PushOutcome, PushSender, PushTarget } from './push-outcome.ts';

/** The server's VAPID identity. */
export interface VapidKeys {
  publicKey: string;
  privateKey: string;
  subject: string;
}

export interface WebPushSettings {
  vapid: VapidKeys;
  policy: OutboundPolicy;
  timeoutMs: number;
  ttlSeconds: number;
  /** Connections kept per push service. */
  maxSockets: number;
}

/** A VAPID token is made for 12 hours and made again when less than one is left (RFC 8292 allows up to 24). */
const VAPID_LIFETIME_S = 12 * 3600;
const VAPID_RENEW_S = 3600;

export class WebPushSender implements PushSender {
  /** One keep-alive agent per push service origin: many browsers share a few services. */
  private readonly agents = new Map<string, HttpAgent>();
  /** The VAPID `Authorization` per push service origin (its audience), and when it expires: signing one per push would be most of a push's CPU. */
  private readonly tokens = new Map<string, { header: string; expires: number }>();

  constructor(private readonly settings: WebPushSettings) {}

  async send(target: PushTarget, message: PushMessage): Promise<PushOutcome> {
    let url: URL;
    let body: Buffer;
    let authorization: string;
    try {
      url = new URL(target.address);
      const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
      // An IP literal skips the agent's lookup, so its address is checked here.
      if (isIP(host)) assertAddressAllowed(host, this.settings.policy);
      // RFC 8291: a new ephemeral key and salt for every message, so nothing here is cached.
      body = webPush.encrypt(target.p256dh ?? '', target.auth ?? '', JSON.stringify(webPayload(message)), 'aes128gcm').cipherText;
      authorization = this.vapidFor(url.origin);
    } catch (error) {
      return { result: 'failed', status: null, error: (error as Error).message };
    }
    const headers = {
      authorization,
      ttl: this.settings.ttlSeconds,
      urgency: message.urgent ? 'high' : 'normal',
      'content-encoding': 'aes128gcm',
      'content-type': 'application/octet-stream',
    };
    const response = await httpPost(url, headers, body, { agent: this.agentFor(url), timeoutMs: this.settings.timeoutMs });
    if (response.status === null) return { result: 'failed', status: null, error: response.error };
    if (response.status >= 200 && response.status < 300) return { result: 'delivered', status: response.status, error: null };
    const error = `HTTP ${response.status}${response.body ? `: ${response.body.slice(0, 200)}` : ''}`;
    return { result: response.status === 404 || response.status === 410 ? 'gone' : 'failed', status: response.status, error };
  }

  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  /** The VAPID `Authorization` for a push service, signed again only when it nears its expiry. */
  private vapidFor(audience: string): string {
    const now = Math.floor(Date.now() / 1000);
    const cached = this.tokens.get(audience);
    if (cached && cached.expires - now > VAPID_RENEW_S) return cached.header;
    const { publicKey, privateKey, subject } = this.settings.vapid;
    const expires = now + VAPID_LIFETIME_S;
    const header = webPush.getVapidHeaders(audience, subject, publicKey, privateKey, 'aes128gcm', expires).Authorization;
    this.tokens.set(audience, { header, expires });
    return header;
  }

  private agentFor(url: URL): HttpAgent {
    let agent = this.agents.get(url.origin);
    if (!agent) {
      const settings = { keepAlive: true, maxSockets: this.settings.maxSockets, lookup: guardedLookup(this.settings.policy) };
      agent = url.protocol === 'https:' ? new HttpsAgent(settings) : new HttpAgent(settings);
      this.agents.set(url.origin, agent);
    }
    return agent;
  }
}

/** What the service worker receives (decrypted): what to show, the badge, and the event's ids. */
export function webPayload(message: PushMessage) {
  return { title: message.title, body: message.body, badge: message.badge, urgent: message.urgent, data: message.data };
}
