/**
 * The webhook API: endpoints of a tenant (create, change, rotate a secret, delete), their
 * deliveries and redelivery. What changes an endpoint nudges the lease loop (leases.ts), so
 * the instance delivering it picks the change up at once.
 */
import { DomainError, ErrorCode, badInput } from '../domain/errors.ts';
import { FIREHOSE_START, type EventType } from '../domain/events.ts';
import type { WebhookConfig } from '../config/load.ts';
import type { FirehoseLog } from '../firehose/firehose-log.ts';
import type { Logger } from '../logging/logger.ts';
import { checkUrl, OutboundRefused, type OutboundPolicy } from './address-rules.ts';
import type { StoredFilter } from './endpoint-rules.ts';
import { newSecret } from './signing.ts';
import type { DeliveryRow, DeliveryStatus, EndpointRow, WebhookStore } from './store.ts';

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

/** What the API tells the lease loop. */
export interface LeaseNudges {
  /** Endpoints changed: renew leases and reconfigure workers now rather than at the next round. */
  nudge(): void;
  /** The endpoint has deliveries queued again: its worker (if here) looks at once. */
  wake(endpointId: string): void;
}

/** Longest description kept. */
const MAX_DESCRIPTION = 500;
/** Longest URL accepted. */
const MAX_URL = 2_048;

export class WebhookEndpoints {
  private readonly policy: OutboundPolicy;

  constructor(
    private readonly store: WebhookStore,
    private readonly deps: { firehoseLog: FirehoseLog; logger: Logger; leases: LeaseNudges },
    private readonly settings: Pick<WebhookConfig, 'maxEndpointsPerTenant' | 'secretOverlapMs' | 'allowHttp' | 'allowPrivateNetworks'>,
  ) {
    this.policy = { allowHttp: settings.allowHttp, allowPrivateNetworks: settings.allowPrivateNetworks };
  }

  private get leases(): LeaseNudges {
    return this.deps.leases;
  }

  async create(tenant: string, input: EndpointInput): Promise<WithSecret> {
    const url = await this.checkedUrl(input.url);
    if ((await this.store.countEndpoints(tenant)) >= this.settings.maxEndpointsPerTenant) {
      throw new DomainError(ErrorCode.LIMIT_EXCEEDED, `a tenant may have at most ${this.settings.maxEndpointsPerTenant} webhook endpoints; delete one first`, {
        limit: this.settings.maxEndpointsPerTenant,
      });
    }
    // A new endpoint receives what is committed from now on.
    const start = (await this.deps.firehoseLog.lastPosition(tenant)) ?? FIREHOSE_START;
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
    this.leases.nudge();
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
        const from = await this.deps.firehoseLog.retainedFrom(endpoint.tenantId);
        Object.assign(changes, { txId: from.txId, ownerId: from.ownerId, sequence: from.sequence });
      }
    }
    const updated = await this.store.updateEndpoint(endpoint.id, changes);
    if (!updated) throw notFound(endpoint.id);
    this.leases.nudge();
    return updated;
  }

  async delete(id: string): Promise<boolean> {
    const gone = await this.store.deleteEndpoint(id);
    if (gone) this.leases.nudge();
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
    this.leases.nudge();
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
    this.leases.wake(delivery.endpointId);
    return requeued ?? (await this.delivery(delivery.id));
  }

  /** Sends every dead delivery of the endpoint again; returns how many. */
  async redeliverDead(endpointId: string): Promise<number> {
    const requeued = await this.store.requeueDead(endpointId, null);
    this.leases.wake(endpointId);
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

  private async checkedUrl(raw: string): Promise<string> {
    if (raw.length > MAX_URL) throw badInput(`url must be at most ${MAX_URL} characters`, 'url');
    try {
      return (await checkUrl(raw, this.policy)).toString();
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
