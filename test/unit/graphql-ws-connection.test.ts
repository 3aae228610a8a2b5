/**
 * The transport-free graphql-transport-ws core, for the one rule no real client can
 * trigger: a failure on the server's side (not the client's) closes with 4500 and a
 * reference, or ends just the operation with an error message when only its stream broke.
 * The hooks are fakes because these faults cannot be caused through the real server.
 */
import { describe, expect, it, vi } from 'vitest';
import { GraphQLWsConnection, type ConnectionHooks } from '../../src/transport/graphql-ws/connection.ts';
import type { Sink } from '../../src/transport/core/sink.ts';

function recordingSink() {
  const sent: string[] = [];
  const closes: { code: number; reason: string }[] = [];
  const sink: Sink = { send: (frame) => sent.push(frame), bufferedBytes: () => 0, onDrain: () => () => {}, closesAtTokenExpiry: true, close: (code, reason) => closes.push({ code, reason }) };
  return { sink, sent, closes };
}

const principal = { subject: 'alice', role: 'user' as const, expiresAt: null, tokenId: null, issuedAt: null, tenant: null };

function hooks(start: ConnectionHooks['start']): ConnectionHooks {
  return { connect: async () => ({ principal }), start, ended: () => {}, failed: () => 'ref-1' };
}

describe('graphql-ws connection core', () => {
  it('closes with 4500 and a reference when starting an operation fails on the server', async () => {
    const { sink, closes } = recordingSink();
    const connection = new GraphQLWsConnection(sink, hooks(async () => Promise.reject(new Error('database gone'))), 0);
    await connection.receive(JSON.stringify({ type: 'connection_init' }));
    await connection.receive(JSON.stringify({ id: 'a', type: 'subscribe', payload: { query: '{ x }' } }));
    expect(closes).toEqual([{ code: 4500, reason: 'Internal server error (reference ref-1)' }]);
  });

  it('ends only the operation whose stream throws, with an error message', async () => {
    const { sink, sent, closes } = recordingSink();
    const results = (async function* () {
      yield { data: { n: 1 } };
      throw new Error('stream broke');
    })();
    const connection = new GraphQLWsConnection(sink, hooks(async () => ({ kind: 'stream', results, operationName: null })), 0);
    await connection.receive(JSON.stringify({ type: 'connection_init' }));
    await connection.receive(JSON.stringify({ id: 'a', type: 'subscribe', payload: { query: 'subscription { n }' } }));
    await vi.waitFor(() => expect(sent).toHaveLength(3));
    expect(sent.map((frame) => JSON.parse(frame))).toEqual([
      { type: 'connection_ack' },
      { id: 'a', type: 'next', payload: { data: { n: 1 } } },
      { id: 'a', type: 'error', payload: [{ message: 'Internal server error (reference ref-1)', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] },
    ]);
    expect(closes).toEqual([]);
  });
});
