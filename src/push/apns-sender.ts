/**
 * APNs over HTTP/2 with a provider token: an ES256 JWT of the team, signed with the auth
 * key, renewed every 50 minutes (Apple refuses one older than an hour). One HTTP/2
 * session carries every push; it is opened again when it closes.
 */
import { connect, constants, type ClientHttp2Session } from 'node:http2';
import { importPKCS8, SignJWT } from 'jose';
import type { PushMessage } from '../domain/push.ts';
import type { PushOutcome, PushSender, PushTarget } from './push-outcome.ts';

export interface ApnsSettings {
  key: string;
  keyId: string;
  teamId: string;
  topic: string;
  host: string;
  ca: string | null;
  timeoutMs: number;
  ttlSeconds: number;
}

const TOKEN_LIFETIME_MS = 50 * 60_000;
/** The reasons that mean the token names no device of this app any more. */
const GONE_REASONS = new Set(['Unregistered', 'BadDeviceToken', 'DeviceTokenNotForTopic']);

export class ApnsSender implements PushSender {
  private session: ClientHttp2Session | null = null;
  private providerToken: { value: string; madeAt: number } | null = null;

  constructor(private readonly settings: ApnsSettings) {}

  async send(target: PushTarget, message: PushMessage): Promise<PushOutcome> {
    let token: string;
    try {
      token = await this.token();
    } catch (error) {
      return { result: 'failed', status: null, error: `no provider token: ${(error as Error).message}` };
    }
    const { badge, title, body, urgent, data } = message;
    const payload = JSON.stringify({ aps: { alert: { title, body }, sound: 'default', ...(badge !== null ? { badge } : {}) }, ...data });
    return new Promise((resolve) => {
      let request;
      try {
        request = this.sessionFor().request({
          [constants.HTTP2_HEADER_METHOD]: 'POST',
          [constants.HTTP2_HEADER_PATH]: `/3/device/${encodeURIComponent(target.address)}`,
          authorization: `bearer ${token}`,
          'apns-topic': this.settings.topic,
          'apns-push-type': 'alert',
          'apns-priority': urgent ? '10' : '5',
          'apns-expiration': String(this.settings.ttlSeconds ? Math.floor(Date.now() / 1000) + this.settings.ttlSeconds : 0),
          'content-type': 'application/json',
        });
      } catch (error) {
        resolve({ result: 'failed', status: null, error: (error as Error).message });
        return;
      }
      request.setTimeout(this.settings.timeoutMs, () => request.close(constants.NGHTTP2_CANCEL));
      let status = 0;
      const chunks: Buffer[] = [];
      request.on('response', (headers) => (status = Number(headers[constants.HTTP2_HEADER_STATUS])));
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (status === 200) return resolve({ result: 'delivered', status, error: null });
        let reason = '';
        try {
          reason = String((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { reason?: string }).reason ?? '');
        } catch {
          // no JSON body: the status says it all
        }
        if (reason === 'ExpiredProviderToken' || reason === 'InvalidProviderToken') this.providerToken = null;
        const gone = status === 410 || GONE_REASONS.has(reason);
        resolve({ result: gone ? 'gone' : 'failed', status: status || null, error: `HTTP ${status || 'none'}${reason ? ` ${reason}` : ''}` });
      });
      request.on('error', (error: Error) => resolve({ result: 'failed', status: null, error: error.message }));
      request.end(payload);
    });
  }

  close(): void {
    this.session?.close();
    this.session = null;
  }

  private sessionFor(): ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const session = connect(this.settings.host, this.settings.ca ? { ca: this.settings.ca } : {});
    session.on('error', () => {
      if (this.session === session) this.session = null;
    });
    session.on('close', () => {
      if (this.session === session) this.session = null;
    });
    session.on('goaway', () => {
      if (this.session === session) this.session = null;
    });
    session.unref();
    this.session = session;
    return session;
  }

  private async token(): Promise<string> {
    if (this.providerToken && Date.now() - this.providerToken.madeAt < TOKEN_LIFETIME_MS) return this.providerToken.value;
    const key = await importPKCS8(this.settings.key, 'ES256');
    const value = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: this.settings.keyId }).setIssuer(this.settings.teamId).setIssuedAt().sign(key);
    this.providerToken = { value, madeAt: Date.now() };
    return value;
  }
}
