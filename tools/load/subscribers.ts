/**
 * Lean subscribers for load: a bare graphql-transport-ws client on `ws` and a bare SSE
 * reader on `http`, so the load tool spends as little CPU per delivery as it can and the
 * figures describe the server. Each checks that its owner's sequences arrive with no gap
 * and no duplicate, and records commit-to-receive latency from the event's `occurredAt`
 * and, for transactions, send-to-receive latency from the send time the producer wrote in
 * the transaction's description.
 */
import { request, type ClientRequest } from 'node:http';
import WebSocket from 'ws';
import { LatencyHistogram } from './latency.ts';

/** What all subscribers of a run add up to. */
export class Tally {
  held = 0;
  subscribed = 0;
  received = 0;
  gaps = 0;
  duplicates = 0;
  errors = 0;
  readonly errorSamples: string[] = [];
  readonly latency = new LatencyHistogram();
  /** From the producer sending the posting to the subscriber receiving its transaction event. */
  readonly sendLatency = new LatencyHistogram();

  error(message: string): void {
    this.errors++;
    if (this.errorSamples.length < 5 && !this.errorSamples.includes(message)) this.errorSamples.push(message);
  }
}

/** The subscription every load connection opens: a typical dashboard selection. */
export const LOAD_SUBSCRIPTION =
  'subscription { walletEvents { sequence occurredAt type ... on TransactionEvent { transaction { id amount status description } } ... on BalanceEvent { balance { available } } } }';

export interface SubscriberOptions {
  /** The server's GraphQL URL (http://…/graphql). */
  url: string;
  token: string;
  tally: Tally;
  /** Source address for the connection (127.0.0.x spreads past the ephemeral-port limit). */
  localAddress?: string;
  query?: string;
}

/** An open subscriber; `close()` ends it. Resolves once the subscription is accepted. */
export interface Subscriber {
  close(): void;
}

/** What a subscriber reads of each event. */
interface Seen {
  sequence?: string | number;
  occurredAt?: string;
  /** The producer's send time (ms since the epoch), for transactions it stamped. */
  sentAt?: number;
  transaction?: { description?: string | null };
}

/** The send time a producer writes into a posting's description (see producers.ts). */
export const SENT_PREFIX = 'sent:';

/** Now, in ms since the epoch with sub-millisecond precision, comparable across processes. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Tracks one stream's sequences and latency. */
function onEvent(tally: Tally, state: { last: number }, event: Seen | undefined, now: number): void {
  tally.received++;
  if (!event) return;
  const sequence = Number(event.sequence);
  if (state.last > 0 && sequence !== state.last + 1) {
    if (sequence <= state.last) tally.duplicates++;
    else tally.gaps++;
  }
  state.last = sequence;
  if (event.occurredAt) tally.latency.add(now - Date.parse(event.occurredAt));
  const description = event.transaction?.description;
  const sentAt = event.sentAt ?? (description?.startsWith(SENT_PREFIX) ? Number(description.slice(SENT_PREFIX.length)) : undefined);
  if (sentAt !== undefined && Number.isFinite(sentAt)) tally.sendLatency.add(preciseNow() - sentAt);
}

const NEXT_PREFIX = '{"id":"1","type":"next","payload":{"data":';

/**
 * Reads an event's sequence and occurredAt straight from a `next` frame's text, without
 * parsing the whole frame: at 100,000 frames a second on the server's own machine, a full
 * `JSON.parse` per frame would make the load tool the bottleneck. Anything unusual (an
 * error, another frame shape) returns null and is parsed in full.
 */
function peekEvent(text: string): Seen | null {
  if (!text.startsWith(NEXT_PREFIX) || text.includes('"errors"')) return null;
  const at = text.indexOf('"sequence":');
  if (at < 0) return null;
  const sequence = parseInt(text.slice(at + 11, at + 31), 10);
  const time = text.indexOf('"occurredAt":"');
  const occurredAt = time < 0 ? undefined : text.slice(time + 14, text.indexOf('"', time + 14));
  const sent = text.indexOf(`"description":"${SENT_PREFIX}`);
  const sentAt = sent < 0 ? undefined : parseFloat(text.slice(sent + 15 + SENT_PREFIX.length, sent + 45));
  return Number.isFinite(sequence) ? { sequence, occurredAt, sentAt } : null;
}

/** Opens a graphql-ws connection and subscribes once. */
export function subscribeWs(options: SubscriberOptions): Promise<Subscriber> {
  const { tally } = options;
  const wsUrl = options.url.replace(/^http/, 'ws');
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl, 'graphql-transport-ws', { localAddress: options.localAddress, perMessageDeflate: false });
    const state = { last: 0 };
    let settled = false;
    let opened = false;
    const settle = (error?: Error) => {
      if (settled) return;
      settled = true;
      if (error) reject(error);
      else resolve({ close: () => socket.close(1000) });
    };
    socket.on('open', () => {
      opened = true;
      tally.held++;
      socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${options.token}` } }));
    });
    socket.on('message', (data) => {
      const text = data.toString();
      const peeked = peekEvent(text);
      if (peeked) return onEvent(tally, state, peeked, Date.now());
      const message = JSON.parse(text) as { type: string; payload?: any };
      switch (message.type) {
        case 'connection_ack':
          socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: options.query ?? LOAD_SUBSCRIPTION } }));
          tally.subscribed++;
          settle();
          return;
        case 'next': {
          if (message.payload?.errors) tally.error(`ws: ${message.payload.errors[0]?.message}`);
          const data = message.payload?.data;
          onEvent(tally, state, data ? (Object.values(data)[0] as any) : undefined, Date.now());
          return;
        }
        case 'ping':
          socket.send('{"type":"pong"}');
          return;
        case 'error':
          tally.error(`ws: ${JSON.stringify(message.payload)}`);
          return;
      }
    });
    socket.on('close', (code, reason) => {
      if (opened) tally.held--;
      if (!settled) settle(new Error(`ws closed ${code} ${reason.toString()} before connection_ack`));
      else if (code !== 1000) tally.error(`ws closed ${code} ${reason.toString()}`);
    });
    socket.on('error', (error) => settle(error));
  });
}

/** Opens an SSE stream (Yoga's distinct-connection mode, as EventSource would). */
export function subscribeSse(options: SubscriberOptions): Promise<Subscriber> {
  const { tally } = options;
  const url = new URL(options.url);
  url.searchParams.set('query', options.query ?? LOAD_SUBSCRIPTION);
  return new Promise((resolve, reject) => {
    const state = { last: 0 };
    let closing = false;
    let req: ClientRequest | null = null;
    req = request(url, { headers: { accept: 'text/event-stream', authorization: `Bearer ${options.token}` }, localAddress: options.localAddress, agent: false }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`SSE answered ${res.statusCode}`));
        res.resume();
        return;
      }
      tally.held++;
      tally.subscribed++;
      resolve({
        close: () => {
          closing = true;
          req?.destroy();
        },
      });
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (!frame.includes('event: next')) continue;
          const dataLine = frame.split('\n').find((line) => line.startsWith('data: '));
          if (!dataLine) continue;
          const payload = JSON.parse(dataLine.slice(6)) as { data?: Record<string, any>; errors?: { message: string }[] };
          if (payload.errors) tally.error(`sse: ${payload.errors[0]?.message}`);
          onEvent(tally, state, payload.data ? Object.values(payload.data)[0] : undefined, Date.now());
        }
      });
      res.on('close', () => {
        tally.held--;
        if (!closing) tally.error('sse stream ended by the server');
      });
    });
    req.on('error', (error) => {
      if (!closing) reject(error);
    });
    req.end();
  });
}
