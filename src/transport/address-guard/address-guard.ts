/**
 * Limits per client address: new connections (WebSocket upgrades and event streams) per
 * second, connections held at once, and a cool-down after repeated failed
 * authentications, during which every request from the address is refused. The per-token
 * and per-owner limits cannot see a client that opens thousands of connections or guesses
 * tokens in a loop; these can.
 *
 * Behind a reverse proxy every connection comes from the proxy, so the client's address is
 * read from `X-Forwarded-For`, but only when the peer is a configured trusted proxy:
 * anyone else could write any address there.
 */
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { proxyList } from '../../config/address-list.ts';
import type { AddressLimits } from '../../config/load.ts';

export type { AddressLimits };

/** Why an address was refused, for the answer and the audit line. */
export interface AddressRefusal {
  reason: 'connection rate' | 'connection limit' | 'authentication cool-down';
  message: string;
  retryAfterMs: number;
  limit: number;
}

interface AddressState {
  tokens: number;
  refilledAt: number;
  open: number;
  failures: number;
  failuresSince: number;
  coolUntil: number;
  seenAt: number;
}

const NOTHING_HELD = () => {};

/** Addresses tracked before idle ones are dropped early (a flood of distinct addresses). */
const MAX_TRACKED = 100_000;
const SWEEP_INTERVAL_MS = 10_000;

/** `::ffff:1.2.3.4` is 1.2.3.4: one client whichever way the socket reports it. */
export function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}


/**
 * The client's address: the peer, or, when the peer is a trusted proxy, the right-most
 * address in `X-Forwarded-For` that is not itself a trusted proxy.
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | string[] | undefined, trusted: BlockList, anyTrusted: boolean): string {
  const from = normalizeAddress(peer ?? 'unknown');
  if (!anyTrusted || !forwardedFor || !isTrusted(trusted, from)) return from;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
    .split(',')
    .map((hop) => normalizeAddress(hop.trim()))
    .filter((hop) => isIP(hop));
  for (let i = hops.length - 1; i >= 0; i--) if (!isTrusted(trusted, hops[i]!)) return hops[i]!;
  return hops[0] ?? from;
}

function isTrusted(list: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export class AddressGuard {
  private readonly states = new Map<string, AddressState>();
  private readonly trusted: BlockList;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly limits: AddressLimits,
    /** Called when an address starts a cool-down (the audit line). */
    private readonly onCooldown: (address: string, failures: number) => void = () => {},
  ) {
    this.trusted = proxyList(limits.trustedProxies);
    this.timer = setInterval(() => this.sweep(Date.now()), SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  /** The client address of `req` (see {@link clientAddress}). */
  addressOf(req: IncomingMessage): string {
    return clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], this.trusted, this.limits.trustedProxies.length > 0);
  }

  /**
   * Admits a new connection from `address`: a refusal, or the function to call once when it
   * closes.
   */
  open(address: string, now = Date.now()): AddressRefusal | (() => void) {
    const refusal = this.check(address, now);
    if (refusal) return refusal;
    const { connectsPerSecond, maxConnections } = this.limits;
    // Nothing to count: no state (and no closure) per connection.
    if (connectsPerSecond <= 0 && maxConnections <= 0) return NOTHING_HELD;
    const state = this.state(address, now);
    if (connectsPerSecond > 0) {
      state.tokens = Math.min(connectsPerSecond, state.tokens + ((now - state.refilledAt) / 1000) * connectsPerSecond);
      state.refilledAt = now;
      if (state.tokens < 1) {
        const retryAfterMs = Math.ceil(((1 - state.tokens) / connectsPerSecond) * 1000);
        return { reason: 'connection rate', limit: connectsPerSecond, retryAfterMs, message: `at most ${connectsPerSecond} new connections per second from one address; retry in ${retryAfterMs} ms` };
      }
    }
    if (maxConnections > 0 && state.open >= maxConnections) {
      return { reason: 'connection limit', limit: maxConnections, retryAfterMs: 1_000, message: `at most ${maxConnections} connections at once from one address; close one first` };
    }
    if (connectsPerSecond > 0) state.tokens -= 1;
    state.open++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      state.open--;
      state.seenAt = Date.now();
    };
  }

  /** The cool-down refusal, when `address` is in one (applies to every request). */
  check(address: string, now = Date.now()): AddressRefusal | null {
    const state = this.states.get(address);
    if (!state || state.coolUntil <= now) return null;
    const retryAfterMs = state.coolUntil - now;
    return {
      reason: 'authentication cool-down',
      limit: this.limits.authFailures,
      retryAfterMs,
      message: `too many failed authentications from this address; retry in ${Math.ceil(retryAfterMs / 1000)} s`,
    };
  }

  /** A failed authentication from `address`; starts a cool-down past the limit. */
  authFailed(address: string, now = Date.now()): void {
    const { authFailures, authFailureWindowMs, authCooldownMs } = this.limits;
    if (authFailures <= 0) return;
    const state = this.state(address, now);
    if (now - state.failuresSince > authFailureWindowMs) {
      state.failures = 0;
      state.failuresSince = now;
    }
    state.failures++;
    if (state.failures >= authFailures && state.coolUntil <= now) {
      state.coolUntil = now + authCooldownMs;
      this.onCooldown(address, state.failures);
      state.failures = 0;
      state.failuresSince = now;
    }
  }

  /** Addresses tracked now (for tests and gauges). */
  get size(): number {
    return this.states.size;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private state(address: string, now: number): AddressState {
    let state = this.states.get(address);
    if (!state) {
      if (this.states.size >= MAX_TRACKED) this.sweep(now);
      state = { tokens: this.limits.connectsPerSecond, refilledAt: now, open: 0, failures: 0, failuresSince: now, coolUntil: 0, seenAt: now };
      this.states.set(address, state);
    }
    state.seenAt = now;
    return state;
  }

  /** Forgets addresses that hold nothing, are not cooling down and were not seen for a while. */
  private sweep(now: number): void {
    const idleMs = Math.max(this.limits.authFailureWindowMs, 1_000);
    for (const [address, state] of this.states) {
      if (state.open === 0 && state.coolUntil <= now && now - state.seenAt > idleMs) this.states.delete(address);
    }
  }
}
