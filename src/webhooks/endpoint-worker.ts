/**
 * Delivers one endpoint's events, on the instance holding its lease. It works in steps:
 * each step takes the owners' queued deliveries that are due and the next page of the
 * tenant's feed, sends them (owners in parallel, each owner's in sequence order), then
 * records everything in one transaction that also moves the endpoint's feed position. A
 * crash before that commit sends the step again (at least once); nothing after a position
 * is ever skipped.
 *
 * The ordering rule: an owner with a delivery queued (waiting for a retry, or behind one)
 * has all its later events queued behind it, so the receiver sees each owner's events in
 * sequence order. Once the queued delivery succeeds or goes dead, the next is sent. A dead
 * delivery does not hold its owner back: it waits in the dead-letter queue for a
 * redelivery, which is then out of order with what followed it.
 */
import { DomainError, ErrorCode } from '../domain/errors.ts';
import type { FirehosePosition } from '../domain/events.ts';
import type { FirehoseEvent, FirehoseLog } from '../firehose/firehose-log.ts';
import { eventFilter, type EventFilter } from '../domain/event-filter.ts';
import type { Logger } from '../logging/logger.ts';
import { criteriaOf } from './endpoint-rules.ts';
import { webhookBody } from './payload.ts';
import { retryDelayMs } from './retry-schedule.ts';
import { WebhookSender, type AttemptResult, type SenderOptions } from './sender.ts';
import { Signer } from './signing.ts';
import type { DeliveryChange, EndpointRow, NewDelivery, QueueHead, WebhookStore } from './store.ts';

export interface WorkerOptions {
  /** Feed events one step reads. */
  batchSize: number;
  /** Requests in flight to the endpoint at once (and connections kept to it). */
  concurrency: number;
  /** Delay before each retry; a delivery is dead after the last one fails. */
  retryScheduleMs: readonly number[];
  /** Consecutive failures that open the circuit breaker. */
  breakerThreshold: number;
  /** How long an open breaker pauses the endpoint before one probe. */
  breakerCooldownMs: number;
  /** How often an idle worker looks at the feed and its queue on its own (a lost wake, a redelivery elsewhere). */
  lookIntervalMs: number;
  /** How soon to look again when a commit it heard of is not readable yet. */
  horizonRetryMs: number;
  sender: Omit<SenderOptions, 'maxSockets'>;
}

/** What workers report (metrics). */
export interface WebhookObserver {
  attempt(outcome: 'delivered' | 'failed' | 'gone', durationMs: number): void;
  died(count: number): void;
  breaker(to: 'open' | 'half_open' | 'closed'): void;
}

type Item = { head: QueueHead; event?: undefined } | { event: FirehoseEvent; body: string; head?: undefined };

/** What one step sent and decided, written at its end. */
interface StepRecord {
  inserts: NewDelivery[];
  changes: DeliveryChange[];
}

export class EndpointWorker {
  private sender!: WebhookSender;
  private signer!: Signer;
  private signerUntil: number | null = null;
  private filter!: EventFilter;
  private endpoint!: EndpointRow;
  private position: FirehosePosition;
  private failures: number;
  private state: EndpointRow['state'];
  private pausedUntil: number;
  private disabledReason: string | null;
  private probing = false;
  /** Owners with queued deliveries, as of this step's start. */
  private blocked = new Set<string>();
  private queueCheckedAt = 0;
  private announced = 0;
  private lagFrom: number | null = null;
  private stopped = false;
  private wakeUp: (() => void) | null = null;
  private running: Promise<void> | null = null;

  constructor(
    endpoint: EndpointRow,
    private readonly deps: { store: WebhookStore; firehoseLog: FirehoseLog; logger: Logger; observer?: WebhookObserver; holder: string; onStopped: (worker: EndpointWorker) => void },
    private readonly options: WorkerOptions,
  ) {
    this.position = { txId: endpoint.txId, ownerId: endpoint.ownerId, sequence: endpoint.sequence };
    this.failures = endpoint.consecutiveFailures;
    this.state = endpoint.state;
    this.pausedUntil = endpoint.pausedUntil?.getTime() ?? 0;
    this.disabledReason = endpoint.disabledReason;
    this.configure(endpoint);
  }

  get id(): string {
    return this.endpoint.id;
  }

  get tenant(): string {
    return this.endpoint.tenantId;
  }

  /** True while the breaker keeps the endpoint paused (a probe pending or in flight). */
  get breakerOpen(): boolean {
    return this.state === 'paused';
  }

  /** Seconds since the oldest event this worker knows it has not delivered was written. */
  lagSeconds(now = Date.now()): number {
    return this.lagFrom === null ? 0 : Math.max(0, (now - this.lagFrom) / 1000);
  }

  /** Takes the endpoint's settings (URL, secrets, filters) as stored now. */
  configure(endpoint: EndpointRow): void {
    const previous = this.endpoint;
    this.endpoint = endpoint;
    if (!previous || previous.url !== endpoint.url) {
      previous && this.sender.close();
      this.sender = new WebhookSender(endpoint.url, { ...this.options.sender, maxSockets: this.options.concurrency });
    }
    if (!previous || previous.secret !== endpoint.secret || previous.previousSecret !== endpoint.previousSecret) this.resign(Date.now());
    this.filter = eventFilter(criteriaOf(endpoint));
  }

  start(): void {
    this.running ??= this.run();
  }

  /** A commit of `txId` in the endpoint's tenant (0: just look). */
  wake(txId = 0): void {
    if (txId > this.announced) this.announced = txId;
    this.wakeUp?.();
  }

  /** Stops after the step in progress (its sends finish and are recorded). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    await this.running;
    this.sender.close();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let delay: number;
      try {
        delay = await this.step();
      } catch (error) {
        this.deps.logger.warn('webhook delivery step failed; trying again', { endpoint: this.id, error });
        delay = this.options.lookIntervalMs;
      }
      if (this.stopped) break;
      if (delay > 0) await this.sleep(delay);
    }
    this.deps.onStopped(this);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      const wakeUp = () => done();
      this.wakeUp = wakeUp;
      function done() {
        clearTimeout(timer);
        resolve();
      }
    }).finally(() => (this.wakeUp = null));
  }

  /** One step; returns how long to wait before the next (0: at once). */
  private async step(): Promise<number> {
    const now = Date.now();
    if (this.signerUntil !== null && now >= this.signerUntil) this.resign(now);
    if (this.state === 'paused') {
      if (now < this.pausedUntil) return this.pausedUntil - now;
      if (!this.probing) {
        this.probing = true;
        this.deps.observer?.breaker('half_open');
        this.deps.logger.info('webhook endpoint probing after its cool-down', { endpoint: this.id });
      }
    }
    let heads: QueueHead[] = [];
    if (this.blocked.size > 0 || now - this.queueCheckedAt >= this.options.lookIntervalMs) {
      heads = await this.deps.store.queueHeads(this.id);
      this.blocked = new Set(heads.map((head) => head.ownerId));
      this.queueCheckedAt = now;
    }
    const due = heads.filter((head) => head.status === 'pending' || (head.nextAttemptAt?.getTime() ?? 0) <= now);
    // A probe is one delivery: the first due one, or else the next event of the feed.
    const work = new Map<string, Item[]>();
    for (const head of this.probing ? due.slice(0, 1) : due) work.set(head.ownerId, [{ head }]);
    const record: StepRecord = { inserts: [], changes: [] };
    let rows: FirehoseEvent[] = [];
    if (!(this.probing && work.size)) {
      try {
        rows = await this.deps.firehoseLog.read(this.position, this.probing ? 1 : this.options.batchSize, { tenant: this.tenant });
      } catch (error) {
        if (!(error instanceof DomainError && error.code === ErrorCode.CURSOR_EXPIRED)) throw error;
        this.disable('its position fell behind event retention (events it had not delivered were pruned); re-enable it to go on from the oldest event kept');
      }
    }
    for (const row of rows) {
      if (!this.filter(row.event)) continue;
      const body = webhookBody(row.event, row.position);
      if (this.blocked.has(row.event.ownerId)) {
        record.inserts.push(queued(row, body));
        continue;
      }
      const items = work.get(row.event.ownerId);
      if (items) items.push({ event: row, body });
      else work.set(row.event.ownerId, [{ event: row, body }]);
    }
    await this.sendAll(work, record);
    const end = rows.at(-1)?.position ?? this.position;
    const changed = rows.length > 0 || record.inserts.length > 0 || record.changes.length > 0 || this.state !== this.endpoint.state;
    if (changed) {
      const state = { consecutiveFailures: this.failures, state: this.state, pausedUntil: this.state === 'paused' ? new Date(this.pausedUntil) : null, disabledReason: this.disabledReason };
      if (!(await this.deps.store.commitStep(this.id, this.deps.holder, { ...record, endpoint: { position: end, ...state } }))) {
        this.deps.logger.info('webhook endpoint lease lost; another instance delivers it now', { endpoint: this.id });
        this.stopped = true;
        return 0;
      }
      this.endpoint = { ...this.endpoint, ...state };
      // Owners that now have a queued delivery hold their later events from the next step on.
      for (const row of record.inserts) if (row.status === 'pending' || row.status === 'retrying') this.blocked.add(row.ownerId);
    }
    this.position = end;
    this.lagFrom = oldest(heads, rows.length === this.options.batchSize ? rows.at(-1) : undefined);
    if (this.state === 'disabled') {
      this.stopped = true;
      return 0;
    }
    if (rows.length > 0 || due.length > 0) return 0;
    if (this.announced > this.position.txId) return this.options.horizonRetryMs;
    const nextDue = Math.min(...heads.map((head) => head.nextAttemptAt?.getTime() ?? Infinity));
    return Math.max(1, Math.min(this.options.lookIntervalMs, nextDue - Date.now()));
  }

  /** Sends each owner's items in order, owners side by side up to the concurrency. */
  private async sendAll(work: Map<string, Item[]>, record: StepRecord): Promise<void> {
    const owners = [...work.values()];
    const runner = async () => {
      for (let items = owners.shift(); items; items = owners.shift()) await this.sendOwner(items, record);
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency, owners.length) }, runner));
  }

  private async sendOwner(items: Item[], record: StepRecord): Promise<void> {
    let held = false;
    for (const item of items) {
      // After a failure the owner's later events wait behind it; a paused or disabled
      // endpoint sends nothing more this step (a probe is the step's only item).
      if (held || this.state === 'disabled' || (this.state === 'paused' && !this.probing)) {
        if (item.event) record.inserts.push(queued(item.event, item.body));
        continue;
      }
      held = !(await this.send(item, record));
    }
  }

  /** One attempt and its consequences; true when delivered. */
  private async send(item: Item, record: StepRecord): Promise<boolean> {
    const eventId = item.head ? item.head.eventId : item.event.event.eventId;
    const body = item.head ? item.head.body ?? '' : item.body;
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = this.signer.sign(eventId, timestamp, body);
    const result = await this.sender.post(body, { 'webhook-id': eventId, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature });
    this.deps.observer?.attempt(result.ok ? 'delivered' : result.status === 410 ? 'gone' : 'failed', result.durationMs);
    const attempts = (item.head?.attempts ?? 0) + 1;
    const outcome = result.ok ? delivered(attempts, result) : this.failed(attempts, result, eventId);
    if (item.head) record.changes.push({ id: item.head.id, ...outcome });
    else record.inserts.push({ ...eventFields(item.event), ...outcome, body: result.ok ? null : body, deliveredAt: result.ok ? new Date() : null });
    if (result.ok) this.succeeded();
    return result.ok;
  }

  private succeeded(): void {
    this.failures = 0;
    if (this.state === 'paused') {
      this.state = 'active';
      this.probing = false;
      this.deps.observer?.breaker('closed');
      this.deps.logger.info('webhook endpoint resumed: the probe succeeded, circuit breaker closed', { endpoint: this.id });
    }
  }

  /** Records a failed attempt: retry later, or dead past the schedule; may open the breaker or disable the endpoint. */
  private failed(attempts: number, result: AttemptResult, eventId: string): Omit<DeliveryChange, 'id'> {
    this.failures++;
    const delay = retryDelayMs(this.options.retryScheduleMs, attempts);
    if (delay === null) {
      this.deps.observer?.died(1);
      this.deps.logger.warn('webhook delivery is dead after its last attempt', { endpoint: this.id, eventId, attempts, status: result.status, error: result.error });
    }
    if (result.status === 410) {
      this.disable('the receiver answered 410 Gone');
    } else if (this.probing || (this.state === 'active' && this.failures >= this.options.breakerThreshold)) {
      this.state = 'paused';
      this.probing = false;
      this.pausedUntil = Date.now() + this.options.breakerCooldownMs;
      this.deps.observer?.breaker('open');
      this.deps.logger.warn('webhook endpoint paused: circuit breaker opened', {
        endpoint: this.id,
        consecutiveFailures: this.failures,
        until: new Date(this.pausedUntil).toISOString(),
        error: result.error,
      });
    }
    return {
      status: delay === null ? 'dead' : 'retrying',
      attempts,
      nextAttemptAt: delay === null ? null : new Date(Date.now() + delay),
      lastStatus: result.status,
      lastError: result.error,
      responseExcerpt: result.excerpt,
    };
  }

  private disable(reason: string): void {
    if (this.state === 'disabled') return;
    this.state = 'disabled';
    this.disabledReason = reason;
    this.deps.logger.warn('webhook endpoint disabled', { endpoint: this.id, reason });
  }

  /** Signs with the current secret, and the previous one while its overlap lasts. */
  private resign(now: number): void {
    const { secret, previousSecret, previousSecretExpiresAt } = this.endpoint;
    const overlap = previousSecret && previousSecretExpiresAt && previousSecretExpiresAt.getTime() > now;
    this.signer = new Signer(overlap ? [secret, previousSecret] : [secret]);
    this.signerUntil = overlap ? previousSecretExpiresAt.getTime() : null;
  }
}

function eventFields(row: FirehoseEvent) {
  const { eventId, ownerId, sequence, type, occurredAt } = row.event;
  return { eventId, ownerId, sequence, type, occurredAt: new Date(occurredAt) };
}

/** A delivery queued behind an earlier one of its owner (or held by the breaker), due once it is the owner's oldest. */
function queued(row: FirehoseEvent, body: string): NewDelivery {
  return { ...eventFields(row), body, status: 'pending', attempts: 0, nextAttemptAt: null };
}

function delivered(attempts: number, result: AttemptResult): Omit<DeliveryChange, 'id'> {
  return { status: 'delivered', attempts, nextAttemptAt: null, lastStatus: result.status, lastError: null, responseExcerpt: result.excerpt };
}

/** When the oldest known undelivered event was written: a queued head, or the last of a full page (more follow). */
function oldest(heads: QueueHead[], behind: FirehoseEvent | undefined): number | null {
  let at: number | null = behind ? Date.parse(behind.event.occurredAt) : null;
  for (const head of heads) if (at === null || head.occurredAt.getTime() < at) at = head.occurredAt.getTime();
  return at;
}
