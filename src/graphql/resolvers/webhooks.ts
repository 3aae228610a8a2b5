/**
 * Webhook endpoints and their deliveries: service tokens manage their tenant's, admins any
 * tenant's. An endpoint of another tenant answers NOT_FOUND, as one that does not exist.
 */
import { encodeFirehoseCursor } from '../../domain/events.ts';
import { badInput, DomainError, ErrorCode } from '../../domain/errors.ts';
import { TENANT_PATTERN, type Principal } from '../../domain/principal.ts';
import type { StoredFilter } from '../../webhooks/endpoint-rules.ts';
import type { DeliveryStatus, EndpointRow } from '../../webhooks/store.ts';
import { pageSize, requireRole } from '../access.ts';
import type { GraphQLContext } from '../context.ts';
import type { MutationResolvers, QueryResolvers, WalletEventFilter, WebhookDeliveryResolvers, WebhookEndpointResolvers } from '../generated/resolvers-types.ts';
import { amountBounds } from './connections.ts';

/** Longest overlap a rotation may ask for. */
const MAX_OVERLAP_S = 30 * 86_400;

function manager(ctx: GraphQLContext): Principal {
  return requireRole(ctx, 'service', 'admin');
}

/** The tenant a caller names: a service its own (naming another is FORBIDDEN), an admin the one given. */
function tenantFor(principal: Principal, tenant: string | null | undefined, required: boolean): string | null {
  if (tenant != null && !TENANT_PATTERN.test(tenant)) throw badInput('tenant is not a tenant name', 'tenant');
  if (principal.role === 'service') {
    if (tenant != null && tenant !== principal.tenant) {
      throw new DomainError(ErrorCode.FORBIDDEN, `tenant ${tenant} is not this token's tenant (${principal.tenant})`, { reason: 'tenant', tenant: principal.tenant });
    }
    return principal.tenant;
  }
  if (required && tenant == null) throw badInput('an admin token must name the tenant whose events the endpoint receives', 'tenant');
  return tenant ?? null;
}

/** The endpoint `id` if the caller may manage it; NOT_FOUND otherwise. */
async function endpointFor(ctx: GraphQLContext, id: string): Promise<EndpointRow> {
  const principal = manager(ctx);
  const endpoint = await ctx.services.webhooks.endpoint(id);
  if (principal.role === 'service' && endpoint.tenantId !== principal.tenant) throw new DomainError(ErrorCode.NOT_FOUND, `no webhook endpoint ${id}`, { id });
  return endpoint;
}

/** A checked `filter`, as stored (amounts as digit strings); null for none. */
function storedFilter(filter: WalletEventFilter | null | undefined): StoredFilter | null {
  if (!filter) return null;
  amountBounds(filter.minAmount, filter.maxAmount);
  return {
    status: filter.status ?? null,
    direction: filter.direction ?? null,
    transactionTypes: filter.transactionTypes ?? null,
    minAmount: filter.minAmount?.toString() ?? null,
    maxAmount: filter.maxAmount?.toString() ?? null,
    currency: filter.currency ?? null,
  };
}

function deliveryCursor(row: { createdAt: Date; id: string }): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`, 'utf8').toString('base64url');
}

function decodeDeliveryCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (!id || Number.isNaN(createdAt.getTime()) || !/^[0-9a-f-]{36}$/i.test(id)) throw badInput('after is not a cursor of webhookDeliveries', 'after');
  return { createdAt, id };
}

export const webhookQueries: Pick<QueryResolvers, 'webhookEndpoints' | 'webhookEndpoint' | 'webhookDeliveries'> = {
  webhookEndpoints(_parent, args, ctx) {
    return ctx.services.webhooks.endpoints(tenantFor(manager(ctx), args.tenant, false));
  },
  webhookEndpoint: (_parent, args, ctx) => endpointFor(ctx, args.id),
  async webhookDeliveries(_parent, args, ctx) {
    const endpoint = await endpointFor(ctx, args.endpointId);
    const size = pageSize(args.first, 50, ctx.services.maxPageSize);
    const status = args.status ? (args.status.toLowerCase() as DeliveryStatus) : null;
    const rows = await ctx.services.webhooks.deliveries(endpoint.id, status, size + 1, args.after ? decodeDeliveryCursor(args.after) : null);
    const page = rows.slice(0, size);
    return {
      edges: page.map((node) => ({ cursor: deliveryCursor(node), node })),
      pageInfo: { hasNextPage: rows.length > size, endCursor: page.length ? deliveryCursor(page.at(-1)!) : (args.after ?? null) },
    };
  },
};

export const webhookMutations: Pick<
  MutationResolvers,
  'createWebhookEndpoint' | 'updateWebhookEndpoint' | 'deleteWebhookEndpoint' | 'rotateWebhookSecret' | 'redeliverWebhook' | 'redeliverDeadWebhooks'
> = {
  createWebhookEndpoint(_parent, { input }, ctx) {
    const tenant = tenantFor(manager(ctx), input.tenant, true)!;
    return ctx.services.webhooks.create(tenant, { url: input.url, types: input.types ?? null, filter: storedFilter(input.filter), description: input.description ?? null });
  },
  async updateWebhookEndpoint(_parent, { input }, ctx) {
    const endpoint = await endpointFor(ctx, input.id);
    if (input.url === null) throw badInput('url cannot be cleared; delete the endpoint instead', 'url');
    return ctx.services.webhooks.update(endpoint, {
      url: input.url ?? undefined,
      ...('types' in input ? { types: input.types ?? null } : {}),
      ...('filter' in input ? { filter: storedFilter(input.filter) } : {}),
      ...('description' in input ? { description: input.description ?? null } : {}),
      enabled: input.enabled,
    });
  },
  async deleteWebhookEndpoint(_parent, { id }, ctx) {
    const endpoint = await endpointFor(ctx, id);
    return ctx.services.webhooks.delete(endpoint.id);
  },
  async rotateWebhookSecret(_parent, { id, overlapSeconds }, ctx) {
    const endpoint = await endpointFor(ctx, id);
    if (overlapSeconds != null && (!Number.isInteger(overlapSeconds) || overlapSeconds < 0 || overlapSeconds > MAX_OVERLAP_S)) {
      throw badInput(`overlapSeconds must be between 0 and ${MAX_OVERLAP_S}`, 'overlapSeconds');
    }
    return ctx.services.webhooks.rotate(endpoint, overlapSeconds == null ? null : overlapSeconds * 1000);
  },
  async redeliverWebhook(_parent, { id }, ctx) {
    manager(ctx);
    const delivery = await ctx.services.webhooks.delivery(id);
    await endpointFor(ctx, delivery.endpointId).catch(() => {
      throw new DomainError(ErrorCode.NOT_FOUND, `no webhook delivery ${id}`, { id });
    });
    return ctx.services.webhooks.redeliver(delivery);
  },
  async redeliverDeadWebhooks(_parent, { endpointId }, ctx) {
    const endpoint = await endpointFor(ctx, endpointId);
    return ctx.services.webhooks.redeliverDead(endpoint.id);
  },
};

/** One lookup of lag and dead letters per endpoint row, however many of the two fields a query selects. */
const healthOf = new WeakMap<EndpointRow, Promise<{ lagSeconds: number; deadLetters: number }>>();
function health(ctx: GraphQLContext, endpoint: EndpointRow) {
  let found = healthOf.get(endpoint);
  if (!found) healthOf.set(endpoint, (found = ctx.services.webhooks.health(endpoint)));
  return found;
}

export const WebhookEndpoint: WebhookEndpointResolvers = {
  tenant: (endpoint) => endpoint.tenantId,
  filter: (endpoint) => (endpoint.criteria as StoredFilter | null) ?? null,
  state: (endpoint) => endpoint.state.toUpperCase() as 'ACTIVE' | 'PAUSED' | 'DISABLED',
  cursor: (endpoint) => encodeFirehoseCursor({ txId: endpoint.txId, ownerId: endpoint.ownerId, sequence: endpoint.sequence }),
  lagSeconds: async (endpoint, _args, ctx) => (await health(ctx, endpoint)).lagSeconds,
  deadLetters: async (endpoint, _args, ctx) => (await health(ctx, endpoint)).deadLetters,
  previousSecretExpiresAt: (endpoint) => (endpoint.previousSecret && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > new Date() ? endpoint.previousSecretExpiresAt : null),
  lease: (endpoint) => (endpoint.leaseHolder && endpoint.leaseExpiresAt ? { holder: endpoint.leaseHolder, expiresAt: endpoint.leaseExpiresAt } : null),
};

export const WebhookDelivery: WebhookDeliveryResolvers = {
  status: (delivery) => delivery.status.toUpperCase() as 'PENDING' | 'RETRYING' | 'DELIVERED' | 'DEAD',
};
