/**
 * FCM HTTP v1: a message per device token, authorised by an OAuth2 access token that a
 * service account's key buys (a JWT assertion, RFC 7523), kept until shortly before it
 * expires. The API and token URLs are settings, so a test can stand in for Google.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { importPKCS8, SignJWT } from 'jose';
import type { FcmServiceAccount } from '../config/options.ts';
import type { PushMessage } from '../domain/push.ts';
import { httpPost } from './http-post.ts';
import type { PushOutcome, PushSender, PushTarget } from './push-outcome.ts';

const SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';

export interface FcmSettings {
  account: FcmServiceAccount;
  apiUrl: string;
  tokenUrl: string;
  timeoutMs: number;
  ttlSeconds: number;
  maxSockets: number;
}

export class FcmSender implements PushSender {
  private readonly agents = new Map<string, HttpAgent>();
  private accessToken: { value: string; expiresAt: number } | null = null;
  private pendingToken: Promise<string> | null = null;

  constructor(private readonly settings: FcmSettings) {}

  async send(target: PushTarget, message: PushMessage): Promise<PushOutcome> {
    let token: string;
    try {
      token = await this.token();
    } catch (error) {
      return { result: 'failed', status: null, error: `no access token: ${(error as Error).message}` };
    }
    const url = new URL(`/v1/projects/${encodeURIComponent(this.settings.account.projectId)}/messages:send`, this.settings.apiUrl);
    const body = JSON.stringify({
      message: {
        token: target.address,
        notification: { title: message.title, body: message.body },
        data: message.data,
        android: { priority: message.urgent ? 'HIGH' : 'NORMAL', ttl: `${this.settings.ttlSeconds}s`, ...(message.badge !== null ? { notification: { notification_count: message.badge } } : {}) },
      },
    });
    const response = await httpPost(url, { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body, { agent: this.agentFor(url), timeoutMs: this.settings.timeoutMs });
    if (response.status === null) return { result: 'failed', status: null, error: response.error };
    if (response.status >= 200 && response.status < 300) return { result: 'delivered', status: response.status, error: null };
    // A refused token is renewed for the next try.
    if (response.status === 401) this.accessToken = null;
    const code = fcmErrorCode(response.body);
    const error = `HTTP ${response.status}${code ? ` ${code}` : ''}`;
    return { result: code === 'UNREGISTERED' || (response.status === 404 && code === 'NOT_FOUND') ? 'gone' : 'failed', status: response.status, error };
  }

  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  /** A valid access token, asking for a new one a minute before the last expires (one request at a time). */
  private async token(): Promise<string> {
    if (this.accessToken && this.accessToken.expiresAt > Date.now() + 60_000) return this.accessToken.value;
    this.pendingToken ??= this.fetchToken().finally(() => (this.pendingToken = null));
    return this.pendingToken;
  }

  private async fetchToken(): Promise<string> {
    const { account, tokenUrl } = this.settings;
    const key = await importPKCS8(account.privateKey, 'RS256');
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({ scope: SCOPE }).setProtectedHeader({ alg: 'RS256', typ: 'JWT' }).setIssuer(account.clientEmail).setAudience(tokenUrl).setIssuedAt(now).setExpirationTime(now + 3600).sign(key);
    const url = new URL(tokenUrl);
    const form = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }).toString();
    const response = await httpPost(url, { 'content-type': 'application/x-www-form-urlencoded' }, form, { agent: this.agentFor(url), timeoutMs: this.settings.timeoutMs });
    if (response.status !== 200) throw new Error(response.error ?? `token endpoint answered ${response.status}`);
    const answer = JSON.parse(response.body) as { access_token?: unknown; expires_in?: unknown };
    if (typeof answer.access_token !== 'string') throw new Error('token endpoint answered no access_token');
    const lifetime = typeof answer.expires_in === 'number' ? answer.expires_in : 3600;
    this.accessToken = { value: answer.access_token, expiresAt: Date.now() + lifetime * 1000 };
    return answer.access_token;
  }

  private agentFor(url: URL): HttpAgent {
    let agent = this.agents.get(url.origin);
    if (!agent) {
      const settings = { keepAlive: true, maxSockets: this.settings.maxSockets };
      agent = url.protocol === 'https:' ? new HttpsAgent(settings) : new HttpAgent(settings);
      this.agents.set(url.origin, agent);
    }
    return agent;
  }
}

/** The FCM error code of an error response: `details[].errorCode` (UNREGISTERED…), else `error.status`. */
function fcmErrorCode(body: string): string | null {
  try {
    const error = (JSON.parse(body) as { error?: { status?: string; details?: { errorCode?: string }[] } }).error;
    return error?.details?.find((detail) => detail.errorCode)?.errorCode ?? error?.status ?? null;
  } catch {
    return null;
  }
}
