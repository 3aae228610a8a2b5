/**
 * Mutations per second per token: a token bucket per JWT (`jti`, else subject and role)
 * that refills at `perSecond` and holds at most `perSecond`. A refused mutation is not
 * executed at all and answers RATE_LIMITED with `retryAfterMs`.
 */
import { GraphQLError, getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { ErrorCode } from '../../domain/errors.ts';
import type { GraphQLContext } from '../context.ts';

interface Bucket {
  tokens: number;
  at: number;
}

const MAX_TRACKED = 100_000;

export function useMutationRateLimit(perSecond: number, onRefuse: (subject: string) => void = () => {}, clock: () => number = Date.now): Plugin<GraphQLContext> {
  const buckets = new Map<string, Bucket>();

  const take = (key: string, now: number): number => {
    const bucket = buckets.get(key) ?? { tokens: perSecond, at: now };
    bucket.tokens = Math.min(perSecond, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
    bucket.at = now;
    buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    // One millisecond over: timers may fire up to a millisecond early against the wall clock,
    // and a client that waits exactly the advice must not be refused again.
    return Math.ceil(((1 - bucket.tokens) / perSecond) * 1000) + 1;
  };

  const forgetIdle = (now: number) => {
    // Full buckets hold no information; drop them when the map grows large.
    if (buckets.size < MAX_TRACKED) return;
    for (const [key, bucket] of buckets) if (bucket.tokens + ((now - bucket.at) / 1000) * perSecond >= perSecond) buckets.delete(key);
  };

  return {
    onExecute({ args, setResultAndStopExecution }) {
      if (getOperationAST(args.document, args.operationName)?.operation !== 'mutation') return;
      const principal = (args.contextValue as GraphQLContext).principal;
      if (!principal) return; // refused as UNAUTHENTICATED by the resolvers
      const now = clock();
      forgetIdle(now);
      const retryAfterMs = take(principal.tokenId ?? `${principal.subject}:${principal.role}`, now);
      if (retryAfterMs === 0) return;
      onRefuse(principal.subject);
      setResultAndStopExecution({
        errors: [new GraphQLError(`more than ${perSecond} mutations per second with this token; retry in ${retryAfterMs} ms`, { extensions: { code: ErrorCode.RATE_LIMITED, retryAfterMs } })],
      });
    },
  };
}
