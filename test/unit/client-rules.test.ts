/**
 * The client wrapper's rules, without a server: which ends pass with time (and are retried
 * from the last cursor) and which go to the app, and which documents can resume.
 */
import { describe, expect, it } from 'vitest';
import { isTransient } from '../../packages/client/src/error-codes.ts';
import { NOT_RESUMABLE, resumable, type OperationRequest, type ResultSink, type SubscribingClient } from '../../packages/client/src/resumable.ts';

const graphqlErrors = (code: string) => [{ message: code, extensions: { code } }];

describe('isTransient', () => {
  it('retries transient server codes and nothing else among GraphQL errors', () => {
    for (const code of ['INTERNAL_SERVER_ERROR', 'SLOW_CONSUMER', 'ACK_TIMEOUT', 'RATE_LIMITED']) expect(isTransient(graphqlErrors(code)), code).toBe(true);
    for (const code of ['FORBIDDEN', 'UNAUTHENTICATED', 'CURSOR_EXPIRED', 'BAD_USER_INPUT', 'LIMIT_EXCEEDED']) expect(isTransient(graphqlErrors(code)), code).toBe(false);
  });

  it('retries lost connections, not refusals', () => {
    expect(isTransient({ code: 1006, reason: '' })).toBe(true);
    expect(isTransient({ code: 1001, reason: 'going away' })).toBe(true);
    expect(isTransient({ code: 4500, reason: 'Internal server error' })).toBe(true);
    for (const code of [4400, 4401, 4403, 4406, 4409, 4429]) expect(isTransient({ code, reason: 'refused' }), String(code)).toBe(false);
    expect(isTransient({ type: 'error', message: 'connect ECONNREFUSED 127.0.0.1:4000' })).toBe(true);
  });

  it('reads graphql-sse network errors by their answer', () => {
    const network = (status?: number) => Object.assign(new Error('network'), { name: 'NetworkError', response: status === undefined ? undefined : { status } });
    expect(isTransient(network())).toBe(true);
    expect(isTransient(network(503))).toBe(true);
    expect(isTransient(network(429))).toBe(true);
    expect(isTransient(network(401))).toBe(false);
    expect(isTransient(network(400))).toBe(false);
    expect(isTransient(new Error('a bug in a sink'))).toBe(false);
  });
});

describe('resumable documents', () => {
  /** What the wrapped client was asked to send, and what the sink was told. */
  function attempt(query: string) {
    const sent: OperationRequest[] = [];
    const errors: unknown[] = [];
    const client = resumable<SubscribingClient>({ subscribe: (request: OperationRequest) => (sent.push(request), () => {}) });
    client.subscribe({ query, variables: { after: null } }, { next: () => {}, error: (error: unknown) => errors.push(error), complete: () => {} } as ResultSink<never>);
    return { sent, errors };
  }

  it('sends a subscription that passes $after on', () => {
    expect(attempt('subscription($after: String) { walletEvents(after: $after) { eventId } }').sent).toHaveLength(1);
    expect(attempt('query { me { id } }').sent).toHaveLength(1); // not a subscription: nothing to resume
  });

  it('refuses one that does not, whatever its comments and strings say', () => {
    for (const query of [
      'subscription { walletEvents { eventId } }',
      'subscription($after: String) { walletEvents { eventId } }',
      '# after: $after\nsubscription { walletEvents(types: [BALANCE]) { eventId } }',
      'subscription { walletEvents(consumer: "after: $after") { eventId } }',
    ]) {
      const { sent, errors } = attempt(query);
      expect(sent, query).toHaveLength(0);
      expect((errors[0] as { extensions: { code: string } }[])[0]!.extensions.code).toBe(NOT_RESUMABLE);
    }
  });

  it('never changes the request the app passed', () => {
    const sent: OperationRequest[] = [];
    const sinks: ResultSink<unknown>[] = [];
    const client = resumable({ subscribe: (request: OperationRequest, sink: ResultSink<never>) => (sent.push(request), sinks.push(sink as ResultSink<unknown>), () => {}) });
    const request = { query: 'subscription($after: String) { walletEvents(after: $after) { eventId } }', variables: { after: 'c1' } };
    client.subscribe(request, { next: () => {}, error: () => {}, complete: () => {} } as ResultSink<never>);
    sinks[0]!.next({ data: {}, extensions: { cursor: 'c2', eventId: 'e2' } });
    expect(sent[0]!.variables).toEqual({ after: 'c2' }); // what a re-send would carry
    expect(request.variables).toEqual({ after: 'c1' });
  });
});
