/**
 * Webhooks: the endpoints' management (what the GraphQL API calls) and, on every instance,
 * the lease loop that runs one {@link EndpointWorker} per endpoint across all instances.
 * Leases live in the database: an instance renews its own every third of the lease's
 * lifetime and takes over any that expired (its holder died), so a dead instance's
 * endpoints move within one lifetime. Commits wake the workers of their tenant through the
 * firehose's wake topic; a periodic look covers a lost wake.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { DomainError, ErrorCode, badInput } from '../domain/errors.ts';
import { FEED_START, type EventType } from '../domain/events.ts';
import type { Database } from '../db/client.ts';
import type { FeedLog } from '../delivery/feed-log.ts';
import { FEED_WAKE_TOPIC, readFeedWake } from '../delivery/feed-wakes.ts';
import type { PubSub } from '../delivery/pubsub.ts';
import type { Logger } from '../logger.ts';
import { checkUrl, OutboundRefused, type OutboundPolicy } from './address-rules.ts';
import type { StoredFilter } from './endpoint-rules.ts';
import { EndpointWorker, type WebhookObserver, type WorkerOptions } from './endpoint-worker.ts';
import { newSecret } from './signing.ts';
import { WebhookStore, type DeliveryRow, type DeliveryStatus, type EndpointRow } from './store.ts';

export interface WebhookSettings {
  policy: OutboundPolicy;
  /** Endpoints one tenant may have. */
  maxEndpointsPerTenant: number;
  /** How long a rotated-out secret keeps signing, unless the rotation says otherwise. */
  secretOverlapMs: number;
  /** How long a lease lasts without renewal (a dead holder's endpoints move after this). */
  leaseTtlMs: number;
  /** False: this instance manages endpoints but delivers none (an API-only instance). */
  deliver: boolean;
  worker: WorkerOptions;
}

/** What `createWebhookEndpoint` and `updateWebhookEndpoint` take (checked by the resolvers). */
export interface EndpointInput {
  url: string;
  types: EventType[] | null;
  filter: StoredFilter | null;
  description: string | null;
}

/** The one-time answer of a creation or rotation: the endpoint and its new secret. */
export interface WithSecret {
  endpoint: EndpointRow;
  secret: string;
}

/** Longest description kept. */
const MAX_DESCRIPTION = 500;
/** Longest URL accepted. */
const MAX_URL = 2_048;

export class Webhooks {
  private readonly store: WebhookStore;
  private readonly workers = new Map<string, EndpointWorker>();
  /** Endpoints being given back: their worker finishes its step, then the lease goes. */
  private readonly releasing = new Set<string>();
  private timer: ReturnType<typeof setInterval> | null = null;
  /** Listening to commit wakes: only while this instance delivers an endpoint. */
  private listening: Promise<(() => void) | null> | null = null;
  private ticking: Promise<void> | null = null;
  /** This instance, as a lease holder: unique even for several instances in one process. */
  readonly holder = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

  constructor(
    db: Database,
    private readonly deps: { feedLog: FeedLog; pubsub: PubSub; logger: Logger; observer?: WebhookObserver; maxMessageBytes: number },
    private readonly settings: WebhookSettings,
  ) {
    this.store = new WebhookStore(db);
  }

  async create(tenant: string, input: EndpointInput): Promise<WithSecret> {
    const url = await this.checkedUrl(input.url);
    if ((await this.store.countEndpoints(tenant)) >= this.settings.maxEndpointsPerTenant) {
      throw new DomainError(ErrorCode.LIMIT_EXCEEDED, `a tenant may have at most ${this.settings.maxEndpointsPerTenant} webhook endpoints; delete one first`, {
        limit: this.settings.maxEndpointsPerTenant,
      });
    }
    // A new endpoint receives what is committed from now on.
    const start = (await this.deps.feedLog.lastPosition(tenant)) ?? FEED_START;
    const secret = newSecret();
    const endpoint = await this.store.insertEndpoint({
      tenantId: tenant,
      url,
      types: input.types,
      criteria: input.filter,
      description: checkedDescription(input.description),
      secret,
      state: 'active',
      txId: start.txId,
      ownerId: start.ownerId,
      sequence: start.sequence,
    });
    this.deps.logger.info('webhook endpoint created', { endpoint: endpoint.id, tenant });
    void this.tick();
    return { endpoint, secret };
  }

  /** Changes what is given; `enabled: false` disables the endpoint, `enabled: true` re-enables a disabled one. */
  async update(endpoint: EndpointRow, patch: Partial<EndpointInput> & { enabled?: boolean | null }): Promise<EndpointRow> {
    const changes: Parameters<WebhookStore['updateEndpoint']>[1] = {};
    if (patch.url != null) changes.url = await this.checkedUrl(patch.url);
    if (patch.types !== undefined) changes.types = patch.types;
    if (patch.filter !== undefined) changes.criteria = patch.filter;
    if (patch.description !== undefined) changes.description = checkedDescription(patch.description);
    if (patch.enabled === false) Object.assign(changes, { state: 'disabled', disabledReason: 'disabled by its tenant', pausedUntil: null });
    if (patch.enabled === true && endpoint.state === 'disabled') {
      Object.assign(changes, { state: 'active', disabledReason: null, pausedUntil: null, consecutiveFailures: 0 });
      if (endpoint.disabledReason?.includes('retention')) {
        const from = await this.deps.feedLog.retainedFrom(endpoint.tenantId);
        Object.assign(changes, { txId: from.txId, ownerId: from.ownerId, sequence: from.sequence });
      }
    }
    const updated = await this.store.updateEndpoint(endpoint.id, changes);
    if (!updated) throw notFound(endpoint.id);
    void this.tick();
    return updated;
  }

  async delete(id: string): Promise<boolean> {
    const gone = await this.store.deleteEndpoint(id);
    if (gone) void this.tick();
    return gone;
  }

  /** A new secret; the current one keeps signing alongside it for `overlapMs` (default: the configured overlap). */
  async rotate(endpoint: EndpointRow, overlapMs: number | null): Promise<WithSecret> {
    const secret = newSecret();
    const overlap = overlapMs ?? this.settings.secretOverlapMs;
    const updated = await this.store.updateEndpoint(endpoint.id, {
      secret,
      previousSecret: overlap > 0 ? endpoint.secret : null,
      previousSecretExpiresAt: overlap > 0 ? new Date(Date.now() + overlap) : null,
    });
    if (!updated) throw notFound(endpoint.id);
    void this.tick();
    return { endpoint: updated, secret };
  }

  /** The endpoint `id`, or NOT_FOUND. */
  async endpoint(id: string): Promise<EndpointRow> {
    const endpoint = isUuid(id) ? await this.store.endpoint(id) : null;
    if (!endpoint) throw notFound(id);
    return endpoint;
  }

  endpoints(tenant: string | null): Promise<EndpointRow[]> {
    return this.store.endpoints(tenant);
  }

  deliveries(endpointId: string, status: DeliveryStatus | null, size: number, after: { createdAt: Date; id: string } | null): Promise<DeliveryRow[]> {
    return this.store.deliveries(endpointId, status, size, after);
  }

  /** The delivery `id`, or NOT_FOUND. */
  async delivery(id: string): Promise<DeliveryRow> {
    const delivery = isUuid(id) ? await this.store.delivery(id) : null;
    if (!delivery) throw new DomainError(ErrorCode.NOT_FOUND, `no webhook delivery ${id}`, { id });
    return delivery;
  }

  /** Sends a dead delivery again, from a fresh retry schedule. */
  async redeliver(delivery: DeliveryRow): Promise<DeliveryRow> {
    if (delivery.status !== 'dead') {
      throw new DomainError(ErrorCode.INVALID_TRANSITION, `delivery ${delivery.id} is ${delivery.status}, not dead: only dead deliveries are redelivered`, { status: delivery.status });
    }
    const [requeued] = await this.store.requeueDead(delivery.endpointId, [delivery.id]);
    this.workers.get(delivery.endpointId)?.wake();
    return requeued ?? (await this.delivery(delivery.id));
  }

  /** Sends every dead delivery of the endpoint again; returns how many. */
  async redeliverDead(endpointId: string): Promise<number> {
    const requeued = await this.store.requeueDead(endpointId, null);
    this.workers.get(endpointId)?.wake();
    return requeued.length;
  }

  /** Lag (seconds behind the oldest undelivered event) and dead letters of `endpoint`, for the API. */
  async health(endpoint: EndpointRow): Promise<{ lagSeconds: number; deadLetters: number }> {
    const [oldest, dead] = await Promise.all([this.store.oldestUndelivered(endpoint), this.store.deadCounts([endpoint.id])]);
    return { lagSeconds: oldest ? Math.max(0, (Date.now() - oldest.getTime()) / 1000) : 0, deadLetters: dead.get(endpoint.id) ?? 0 };
  }

  /** Forgets delivered records older than `before`. */
  pruneDelivered(before: Date): Promise<number> {
    return this.store.pruneDelivered(before);
  }

  /** The workers running here, for gauges. */
  get localWorkers(): readonly EndpointWorker[] {
    return [...this.workers.values()];
  }

  /** Dead letters of the endpoints delivered here, for the gauge. */
  localDeadLetters(): Promise<Map<string, number>> {
    return this.store.deadCounts([...this.workers.keys()]);
  }

  /** Starts taking leases and delivering (unless this instance only manages endpoints). */
  async start(): Promise<void> {
    if (!this.settings.deliver) return;
    this.timer = setInterval(() => void this.tick(), Math.max(50, Math.floor(this.settings.leaseTtlMs / 3)));
    this.timer.unref();
    await this.tick();
  }

  /** Stops every worker (their steps in flight finish and are recorded) and lets the leases go. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.ticking;
    this.listen(false);
    await Promise.all([...this.workers.values()].map((worker) => worker.stop()));
    this.workers.clear();
    if (this.settings.deliver) await this.store.releaseLeases(this.holder).catch(() => {});
  }

  /** Renews and takes leases, then starts, reconfigures or stops workers to match. */
  private tick(): Promise<void> {
    if (!this.timer) return Promise.resolve();
    this.ticking ??= this.claim().finally(() => (this.ticking = null));
    return this.ticking;
  }

  private async claim(): Promise<void> {
    let round: { held: EndpointRow[]; excess: number };
    try {
      round = await this.store.leaseRound(this.holder, this.settings.leaseTtlMs);
    } catch (error) {
      this.deps.logger.warn('webhook lease renewal failed; trying again', { error });
      return;
    }
    if (!this.timer) return;
    // Beyond the share, give back endpoints (after their step in flight), keeping those
    // already running first; those on their way out already count as given back.
    const leaving = round.held.filter((endpoint) => this.releasing.has(endpoint.id)).length;
    const ordered = round.held.filter((endpoint) => !this.releasing.has(endpoint.id)).sort((x, y) => Number(this.workers.has(y.id)) - Number(this.workers.has(x.id)));
    const held = ordered.slice(0, ordered.length - Math.max(0, round.excess - leaving));
    for (const endpoint of ordered.slice(held.length)) this.giveBack(endpoint.id);
    const ids = new Set(held.map((endpoint) => endpoint.id));
    for (const [id, worker] of this.workers) {
      if (!ids.has(id)) {
        this.workers.delete(id);
        void worker.stop();
      }
    }
    this.listen(held.length > 0);
    for (const endpoint of held) {
      const running = this.workers.get(endpoint.id);
      if (running) {
        running.configure(endpoint);
        continue;
      }
      const worker = new EndpointWorker(
        endpoint,
        {
          store: this.store,
          feedLog: this.deps.feedLog,
          logger: this.deps.logger,
          observer: this.deps.observer,
          holder: this.holder,
          onStopped: (stopped) => {
            if (this.workers.get(stopped.id) === stopped) this.workers.delete(stopped.id);
          },
        },
        this.settings.worker,
      );
      this.workers.set(endpoint.id, worker);
      this.deps.logger.info('webhook endpoint taken', { endpoint: endpoint.id, holder: this.holder });
      worker.start();
    }
  }

  /** Stops the endpoint's worker here, then lets its lease go for another instance to take. */
  private giveBack(endpointId: string): void {
    const worker = this.workers.get(endpointId);
    this.workers.delete(endpointId);
    this.releasing.add(endpointId);
    this.deps.logger.info('webhook endpoint given back to balance instances', { endpoint: endpointId, holder: this.holder });
    void (worker?.stop() ?? Promise.resolve())
      .then(() => this.store.releaseLease(endpointId, this.holder))
      .catch((error: Error) => this.deps.logger.warn('webhook lease release failed; it expires instead', { endpoint: endpointId, error: error.message }))
      .finally(() => this.releasing.delete(endpointId));
  }

  /** Subscribes to commit wakes while there are workers here, and lets go when there are none. */
  private listen(on: boolean): void {
    if (on && !this.listening) {
      this.listening = this.deps.pubsub.subscribe(FEED_WAKE_TOPIC, (raw) => this.onWake(raw)).catch((error: Error) => {
        // The periodic look carries the workers; the next lease renewal tries again.
        this.deps.logger.warn('webhook wake subscription failed', { error: error.message });
        this.listening = null;
        return null;
      });
    } else if (!on && this.listening) {
      void this.listening.then((unsubscribe) => unsubscribe?.());
      this.listening = null;
    }
  }

  private onWake(raw: string): void {
    const wake = readFeedWake(raw, this.deps.maxMessageBytes);
    if ('refused' in wake) {
      this.deps.logger.warn('dropped a malformed feed wake', { reason: wake.refused });
      return;
    }
    const tenants = new Set(wake.tenants);
    for (const worker of this.workers.values()) if (tenants.has(worker.tenant)) worker.wake(wake.txId);
  }

  private async checkedUrl(raw: string): Promise<string> {
    if (raw.length > MAX_URL) throw badInput(`url must be at most ${MAX_URL} characters`, 'url');
    try {
      return (await checkUrl(raw, this.settings.policy)).toString();
    } catch (error) {
      if (error instanceof OutboundRefused) throw new DomainError(ErrorCode.BAD_USER_INPUT, `url ${error.message}`, { field: 'url', reason: 'outbound-refused' });
      throw error;
    }
  }
}

function checkedDescription(description: string | null | undefined): string | null {
  if (description == null) return null;
  if (description.length > MAX_DESCRIPTION) throw badInput(`description must be at most ${MAX_DESCRIPTION} characters`, 'description');
  return description;
}

function notFound(id: string): DomainError {
  return new DomainError(ErrorCode.NOT_FOUND, `no webhook endpoint ${id}`, { id });
}

function isUuid(id: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
}
