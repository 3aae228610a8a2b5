/**
 * Web Push (RFC 8030) with VAPID (RFC 8292) and `aes128gcm` payload encryption (RFC 8291),
 * both from the `web-push` package; the request itself goes through our own agents, whose
 * connect-time checks apply the webhook outbound rules to the endpoint a browser gave us.
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

export class WebPushSender implements PushSender {
  /** One keep-alive agent per push service origin: many browsers share a few services. */
  private readonly agents = new Map<string, HttpAgent>();

  constructor(private readonly settings: WebPushSettings) {}

  async send(target: PushTarget, message: PushMessage): Promise<PushOutcome> {
    let url: URL;
    let details: ReturnType<typeof webPush.generateRequestDetails>;
    try {
      url = new URL(target.address);
      const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
      // An IP literal skips the agent's lookup, so its address is checked here.
      if (isIP(host)) assertAddressAllowed(host, this.settings.policy);
      details = webPush.generateRequestDetails({ endpoint: target.address, keys: { p256dh: target.p256dh ?? '', auth: target.auth ?? '' } }, JSON.stringify(webPayload(message)), {
        vapidDetails: this.settings.vapid,
        TTL: this.settings.ttlSeconds,
        urgency: message.urgent ? 'high' : 'normal',
        contentEncoding: 'aes128gcm',
      });
    } catch (error) {
      return { result: 'failed', status: null, error: (error as Error).message };
    }
    const headers: Record<string, string | number> = {};
    for (const [name, value] of Object.entries(details.headers)) headers[name.toLowerCase()] = value as string | number;
    const response = await httpPost(url, headers, details.body ?? Buffer.alloc(0), { agent: this.agentFor(url), timeoutMs: this.settings.timeoutMs });
    if (response.status === null) return { result: 'failed', status: null, error: response.error };
    if (response.status >= 200 && response.status < 300) return { result: 'delivered', status: response.status, error: null };
    const error = `HTTP ${response.status}${response.body ? `: ${response.body.slice(0, 200)}` : ''}`;
    return { result: response.status === 404 || response.status === 410 ? 'gone' : 'failed', status: response.status, error };
  }

  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
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
