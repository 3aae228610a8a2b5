/**
 * The connection registry, alone: it holds each owner to its connection limit across
 * sockets and streams, counts operations per connection, and closes with the table's codes
 * at token expiry, after idleness and at a revocation (explicit clock values, no waiting).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CLOSES } from '../../../src/domain/errors.ts';
import type { Principal } from '../../../src/domain/principal.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { ConnectionRegistry } from '../../../src/transport/core/connection-registry.ts';
import type { Sink } from '../../../src/transport/core/sink.ts';

const registries: ConnectionRegistry[] = [];
afterEach(() => registries.splice(0).forEach((registry) => registry.stop()));

function registry(connectionsPerOwner = 2) {
  const made = new ConnectionRegistry({ connectionsPerOwner, idleTimeoutMs: 60_000, tokenClockSkewMs: 5_000 }, createLogger('silent'));
  registries.push(made);
  return made;
}

function sink() {
  const closes: number[] = [];
  const self: Sink & { closes: number[] } = { send: () => {}, bufferedBytes: () => 0, onDrain: () => () => {}, closesAtTokenExpiry: true, close: (code) => closes.push(code), closes };
  return self;
}

const principal = (subject: string, expiresAt: number | null = null, tokenId: string | null = null): Principal => ({ subject, role: 'user', expiresAt, tokenId, issuedAt: null, tenant: null });

describe('ConnectionRegistry', () => {
  it("holds an owner to its limit across sockets and streams, and frees a place when one goes", () => {
    const connections = registry(2);
    const socket = sink();
    expect(connections.add(socket, principal('alice'), 'ws')).toBe(true);
    const release = connections.addStream('alice');
    expect(release).not.toBeNull();
    expect(connections.add(sink(), principal('alice'), 'ws')).toBe(false);
    expect(connections.addStream('alice')).toBeNull();
    expect(connections.add(sink(), principal('bob'), 'ws')).toBe(true);
    release!();
    release!(); // twice is once
    expect(connections.sseStreams).toBe(0);
    expect(connections.addStream('alice')).not.toBeNull();
    expect(connections.addStream('alice')).toBeNull();
  });

  it('counts operations per connection up to the limit', () => {
    const connections = registry();
    const socket = sink();
    connections.add(socket, principal('alice'), 'ws');
    expect(connections.startOperation(socket, '1', 2)).toBe(true);
    expect(connections.startOperation(socket, '2', 2)).toBe(true);
    expect(connections.startOperation(socket, '3', 2)).toBe(false);
    connections.endOperation(socket, '1');
    expect(connections.startOperation(socket, '3', 2)).toBe(true);
    // Ending one that was refused, or ending one twice, frees no place.
    connections.endOperation(socket, '4');
    connections.endOperation(socket, '1');
    expect(connections.startOperation(socket, '5', 2)).toBe(false);
    connections.endOperation(socket, '2');
    connections.endOperation(socket, '3');
    expect(connections.startOperation(socket, '6', 2)).toBe(true);
  });

  it('closes at token expiry (after the skew) with 4403, and an idle connection with 1000', () => {
    const connections = registry(10);
    const now = Date.now();
    const expiring = sink();
    const idle = sink();
    const busy = sink();
    connections.add(expiring, principal('alice', Math.floor(now / 1000) + 10), 'ws');
    connections.add(idle, principal('bob'), 'ws');
    connections.add(busy, principal('carol'), 'ws');
    connections.startOperation(busy, '1', 5);
    connections.sweep(now + 12_000); // 2 s past exp, within the 5 s skew
    expect(expiring.closes).toEqual([]);
    connections.sweep(now + 16_000);
    expect(expiring.closes).toEqual([CLOSES.tokenExpired.code]);
    connections.sweep(now + 61_000);
    expect(idle.closes).toEqual([CLOSES.normal.code]);
    expect(busy.closes).toEqual([]);
  });

  it('closes the connections a revocation names, by subject or by token, and no other', () => {
    const connections = registry(10);
    const [a1, a2, b] = [sink(), sink(), sink()];
    connections.add(a1, principal('alice', null, 't-1'), 'ws');
    connections.add(a2, principal('alice', null, 't-2'), 'graphql-sse');
    connections.add(b, principal('bob', null, 't-3'), 'ws');
    expect(connections.closeRevoked({ jti: 't-2' })).toBe(1);
    expect(a2.closes).toEqual([CLOSES.tokenExpired.code]);
    expect(connections.closeRevoked({ subject: 'alice' })).toBe(1);
    expect(a1.closes).toEqual([CLOSES.tokenExpired.code]);
    expect(b.closes).toEqual([]);
  });
});
