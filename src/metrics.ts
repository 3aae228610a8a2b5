/**
 * Prometheus metrics of one instance (served at /metrics). Layers don't import this:
 * they take small callbacks (`StreamObserver`, `onAppended`) that the composition root
 * wires here, so the ledger and delivery code stay free of a metrics library.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { StreamObserver } from './delivery/event-stream.ts';

export class Metrics {
  readonly registry = new Registry();
  private readonly appended = this.counter('wallet_events_events_appended_total', 'Events appended to the log by this instance');
  private readonly published = this.counter('wallet_events_events_published_total', 'Events published on the backbone by this instance');
  private readonly delivered = this.counter('wallet_events_events_delivered_total', 'Events handed to subscribers');
  private readonly replays = this.counter('wallet_events_replays_total', 'Subscriptions that replayed the log from a cursor or a consumer position');
  private readonly gaps = this.counter('wallet_events_gap_events_repaired_total', 'Events read from the log because their publish was lost or late');
  private readonly acks = this.counter('wallet_events_acks_total', 'Consumer acks');
  private readonly endings = new Counter({ name: 'wallet_events_stream_endings_total', help: 'Streams ended by the server, by code', labelNames: ['code'], registers: [this.registry] });
  private readonly latency = new Histogram({
    name: 'wallet_events_commit_to_delivery_seconds',
    help: 'From commit to handing the event to a subscriber (live events only)',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  constructor(gauges: { connections: () => Record<string, number>; subscriptions: () => number }) {
    collectDefaultMetrics({ register: this.registry, prefix: 'wallet_events_' });
    new Gauge({
      name: 'wallet_events_connections',
      help: 'Open connections by transport',
      labelNames: ['transport'],
      registers: [this.registry],
      collect() {
        for (const [transport, count] of Object.entries(gauges.connections())) this.set({ transport }, count);
      },
    });
    new Gauge({
      name: 'wallet_events_subscriptions',
      help: 'Active subscriptions on this instance',
      registers: [this.registry],
      collect() {
        this.set(gauges.subscriptions());
      },
    });
  }

  onAppended = (count: number): void => this.appended.inc(count);
  onPublished = (count: number): void => this.published.inc(count);
  onAck = (): void => this.acks.inc();

  /** The observer given to every event stream. */
  readonly stream: StreamObserver = {
    delivered: (event) => {
      this.delivered.inc();
      const age = (Date.now() - Date.parse(event.occurredAt)) / 1000;
      // Replayed events are old by design; only live ones say something about latency.
      if (age < 60) this.latency.observe(Math.max(0, age));
    },
    replayed: () => this.replays.inc(),
    gapRepaired: (events) => this.gaps.inc(events),
    ended: (code) => this.endings.inc({ code }),
  };

  private counter(name: string, help: string): Counter {
    return new Counter({ name, help, registers: [this.registry] });
  }
}
