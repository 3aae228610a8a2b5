/**
 * The benchmark scenarios, each a load run with the sizes of the
 * chosen scale: `full` is what docs/operations/performance.md reports; `smoke` is seconds long and
 * keeps the harness working in the test suite.
 */
import { readFile } from 'node:fs/promises';
import { LATE_MS } from '../../tools/load/producers.ts';
import { runLoad, type LoadOptions, type LoadReport } from '../../tools/load/run-load.ts';
import { TEST_SECRET } from '../support/tokens.ts';

export type Scale = 'smoke' | 'full';

/** A server process under test. */
export interface Target {
  url: string;
  pid: number;
}

/** The server process's resident memory, from /proc (works for any server, baseline included). */
export function rssOf(pid: number): () => Promise<number | null> {
  return async () => {
    try {
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      const kb = /VmRSS:\s+(\d+) kB/.exec(status);
      return kb ? Number(kb[1]) * 1024 : null;
    } catch {
      return null;
    }
  };
}

type Sizes = Pick<LoadOptions, 'connections' | 'owners' | 'rate' | 'durationMs' | 'transport' | 'batch' | 'producers' | 'drainLimitMs'>;

export interface Scenario {
  name: string;
  target: string;
  sizes: Record<Scale, Sizes>;
  /** The row's figure from a report, and how to print it. */
  figure: (report: LoadReport) => number;
  format: (value: number) => string;
  /** True when a larger figure is better. */
  higherIsBetter: boolean;
  /** Why the baseline does not run this scenario, when it does not. */
  noBaseline?: string;
  detail: (report: LoadReport) => string;
}

const n = (value: number) => Math.round(value).toLocaleString('en');
const ms = (value: number) => `${value.toFixed(1)} ms`;
/** The open loop's own shortfall: requests that left late (none is ever skipped). */
const lateness = (r: LoadReport) => `${n(r.schedule.late)} of ${n(r.schedule.sent)} posts left > ${LATE_MS} ms late (worst ${ms(r.schedule.worstLagMs)}), none skipped`;

export const SCENARIOS: Scenario[] = [
  {
    // 19,000, not 20,000: this machine caps every process at 20,000 open files (hard
    // RLIMIT_NOFILE, not raisable here), and the server needs some for itself.
    name: 'graphql-ws connections with one subscription each: server RSS each',
    target: '20,000 held, ≤ 8 KB each',
    sizes: {
      smoke: { connections: 40, owners: 4, rate: 0, durationMs: 500, transport: 'ws', batch: 1, producers: 1 },
      full: { connections: 19_000, owners: 1_000, rate: 0, durationMs: 2_000, transport: 'ws', batch: 1, producers: 1 },
    },
    figure: (r) => (r.rssPerConnection ?? NaN) / 1024,
    format: (kb) => `${kb.toFixed(1)} KB`,
    higherIsBetter: false,
    detail: (r) => `${n(r.connections.held)} of ${n(r.connections.target)} held`,
  },
  {
    name: 'fan-out: deliveries/s (100 subscribers per owner)',
    target: '≥ 100,000/s and ≥ 5× baseline',
    sizes: {
      smoke: { connections: 20, owners: 2, rate: 40, durationMs: 1_000, transport: 'ws', batch: 10, producers: 2 },
      // More offered than either server delivers, so the figure is the server's, not the
      // producers'. The baseline would take about ten minutes to drain all of it; its rate
      // is plain after 20 s.
      full: { connections: 2_000, owners: 20, rate: 4_000, durationMs: 10_000, transport: 'ws', batch: 100, producers: 4, drainLimitMs: 20_000 },
    },
    figure: (r) => r.deliveriesPerSecond,
    format: (v) => `${n(v)}/s`,
    higherIsBetter: true,
    detail: (r) => `${n(r.deliveries)} of ${n(r.expectedDeliveries)} delivered; p99 ${ms(r.latencyMs.p99)}`,
  },
  {
    name: 'latency p50, 1,000 connections, 1,000 events/s',
    target: 'p50 ≤ 5 ms',
    sizes: {
      smoke: { connections: 10, owners: 5, rate: 50, durationMs: 1_000, transport: 'ws', batch: 5, producers: 2 },
      full: { connections: 1_000, owners: 500, rate: 1_000, durationMs: 20_000, transport: 'ws', batch: 10, producers: 4 },
    },
    figure: (r) => r.latencyMs.p50,
    format: ms,
    higherIsBetter: false,
    detail: (r) => `p95 ${ms(r.latencyMs.p95)}, p99 ${ms(r.latencyMs.p99)}, max ${ms(r.latencyMs.max)} (commit → client receive); ${lateness(r)}`,
  },
  {
    name: 'latency p50, 2,000 connections over 1,000 owners, 500 single posts/s (post due → received)',
    target: 'p50 ≤ 15 ms, p99 ≤ 50 ms',
    sizes: {
      smoke: { connections: 20, owners: 10, rate: 40, durationMs: 1_000, transport: 'ws', batch: 1, producers: 10 },
      // Open loop: every post leaves at its time whatever the answers, timed from that time.
      full: { connections: 2_000, owners: 1_000, rate: 1_000, durationMs: 20_000, transport: 'ws', batch: 1, producers: 100 },
    },
    figure: (r) => r.sendLatencyMs.p50,
    format: ms,
    higherIsBetter: false,
    detail: (r) =>
      `p95 ${ms(r.sendLatencyMs.p95)}, p99 ${ms(r.sendLatencyMs.p99)}, max ${ms(r.sendLatencyMs.max)} (postTransaction due → client receive, ${n(r.sendLatencyMs.count)} samples); answered p50 ${ms(r.answerLatencyMs.p50)}, p99 ${ms(r.answerLatencyMs.p99)}; ${lateness(r)}`,
  },
  {
    name: 'ingest, single mutations from 50 producers: events/s',
    target: '≥ 5,000/s',
    sizes: {
      smoke: { connections: 0, owners: 5, rate: 'max', durationMs: 1_000, transport: 'ws', batch: 1, producers: 5 },
      full: { connections: 0, owners: 500, rate: 'max', durationMs: 10_000, transport: 'ws', batch: 1, producers: 50 },
    },
    figure: (r) => r.eventsPerSecond,
    format: (v) => `${n(v)}/s`,
    higherIsBetter: true,
    detail: (r) => `${n(r.eventsProduced)} events (2 per posting), ${r.errors} errors`,
  },
  {
    name: 'ingest, postTransactions batches of 500: events/s',
    target: "≥ 40,000/s and ≥ 50 % of PostgreSQL's own rate (next row)",
    noBaseline: 'no batch mutation in the recipe',
    sizes: {
      smoke: { connections: 0, owners: 5, rate: 'max', durationMs: 1_000, transport: 'ws', batch: 50, producers: 2 },
      full: { connections: 0, owners: 500, rate: 'max', durationMs: 10_000, transport: 'ws', batch: 500, producers: 4 },
    },
    figure: (r) => r.eventsPerSecond,
    format: (v) => `${n(v)}/s`,
    higherIsBetter: true,
    detail: (r) => `${n(r.eventsProduced)} events, ${r.errors} errors`,
  },
  {
    name: 'SSE subscribers: server RSS each',
    target: '5,000 held, ≤ 8 KB each',
    sizes: {
      smoke: { connections: 20, owners: 4, rate: 20, durationMs: 1_000, transport: 'sse', batch: 5, producers: 1 },
      full: { connections: 5_000, owners: 500, rate: 200, durationMs: 5_000, transport: 'sse', batch: 10, producers: 2 },
    },
    figure: (r) => (r.rssPerConnection ?? NaN) / 1024,
    format: (kb) => `${kb.toFixed(1)} KB`,
    higherIsBetter: false,
    detail: (r) => `${n(r.connections.held)} held; ${n(r.deliveries)} of ${n(r.expectedDeliveries)} delivered`,
  },
];

/** Runs one scenario against one server. */
export function runScenario(scenario: Scenario, scale: Scale, target: Target, onProgress?: (line: string) => void): Promise<LoadReport> {
  const sizes = scenario.sizes[scale];
  return runLoad({
    ...sizes,
    url: target.url,
    secret: TEST_SECRET,
    sourceAddresses: Math.ceil(sizes.connections / 25_000),
    rss: rssOf(target.pid),
    onProgress,
  });
}
