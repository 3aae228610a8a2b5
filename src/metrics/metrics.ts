/**
 * Prometheus metrics of one instance (served at /metrics). Layers don't import this:
 * they take small callbacks (`StreamObserver`, `onAppended`) that the composition root
 * wires here, so the ledger and delivery code stay free of a metrics library.
 */
import { hostname } from 'node:os';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { StreamObserver } from '../streams/owner-stream.ts';
import type { FirehoseObserver } from '../firehose/tenant-firehose.ts';
import type { OwnerFeedObserver } from '../streams/owner-feeds.ts';
import type { NotificationKind, WalletEvent } from '../domain/events.ts';
import type { ServerStatsSnapshot } from '../graphql/context.ts';
import { LatencySamples, RateWindow } from './live-stats.ts';
import { UnlabelledHistogram } from './unlabelled-histogram.ts';
import type { WebhookObserver } from '../webhooks/endpoint-worker.ts';
import type { PushObserver } from '../push/push-dispatcher.ts';

/** What the webhook gauges read at scrape time: the endpoints delivered by this instance. */
export interface WebhookGaugeSource {
  localWorkers: readonly { id: string; breakerOpen: boolean; lagSeconds(): number }[];
  localDeadLetters(): Promise<Map<string, number>>;
}

/** Replayed events are old by design; only younger ones say something about latency. */
const LIVE_AGE_MS = 60_000;

/** When each event was written (ms), parsed once per event however many subscribers it reaches. */
const writtenAt = new WeakMap<WalletEvent, number>();

/** Milliseconds since `event` was written, or null for an event too old to be live. */
function liveAgeMs(event: WalletEvent, now: number): number | null {
  let at = writtenAt.get(event);
  if (at === undefined) writtenAt.set(event, (at = Date.parse(event.occurredAt)));
  const age = now - at;
  return age < LIVE_AGE_MS ? Math.max(0, age) : null;
}
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class Metrics {
  readonly registry = new Registry();
  private readonly appended = this.counter('wallet_events_events_appended_total', 'Events appended to the log by this instance');
  private readonly published = this.counter('wallet_events_events_published_total', 'Events published on the backbone by this instance');
  private readonly delivered = this.counter('wallet_events_events_delivered_total', 'Events handed to subscribers');
  private readonly replays = this.counter('wallet_events_replays_total', 'Subscriptions that replayed the log from a cursor or a consumer position');
  private readonly gaps = this.counter('wallet_events_gap_events_repaired_total', 'Events read from the log because their publish was lost or late');
  private readonly acks = this.counter('wallet_events_acks_total', 'Consumer acks');
  private readonly dropped = this.counter('wallet_events_backbone_messages_dropped_total', 'Malformed messages read from the backbone and dropped');
  private readonly transactions = new Counter({
    name: 'wallet_events_write_transactions_total',
    help: 'Database transactions of the ledger, by how they ended',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  private readonly notified = new Counter({
    name: 'wallet_events_notifications_total',
    help: 'Notifications made by this instance, by kind (FRAUD_FLAG, or the kind of alert rule that fired)',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  private readonly pushes = new Counter({
    name: 'wallet_events_pushes_total',
    help: 'Pushes to devices by platform and outcome: delivered (the push service took it), failed (retried, or a dead letter past the schedule), gone (the device was removed)',
    labelNames: ['platform', 'outcome'],
    registers: [this.registry],
  });
  private readonly pushLag = new Histogram({
    name: 'wallet_events_push_lag_seconds',
    help: "From an event's commit to its push service taking the push",
    labelNames: ['platform'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });
  private readonly pauses = this.counter('wallet_events_stream_pauses_total', 'Times a subscription paused because its client read too slowly (it resumes where it stopped)');
  private readonly logReads = new Counter({
    name: 'wallet_events_log_reads_total',
    help: 'Reads of the event log by delivery: gap (a lost or reordered publish), head (the periodic head check found more), replay (subscribers behind their feed’s ring: one read for all that ask for the same page at once)',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly endings = new Counter({ name: 'wallet_events_stream_endings_total', help: 'Streams ended by the server, by code', labelNames: ['code'], registers: [this.registry] });
  // Observed per delivery to every subscriber: label-free histograms that cost a bucket scan.
  private readonly latency = new UnlabelledHistogram(
    'wallet_events_commit_to_delivery_seconds',
    'From commit to handing the event to a subscriber (live events only: not those replayed from the log)',
    LATENCY_BUCKETS,
    this.registry,
  );
  private readonly sendLatency = new UnlabelledHistogram(
    'wallet_events_commit_to_send_seconds',
    'From commit to handing the serialized result to the transport (live events only)',
    LATENCY_BUCKETS,
    this.registry,
  );
  private readonly replayDuration = new Histogram({
    name: 'wallet_events_replay_duration_seconds',
    help: 'From opening a resumed subscription to delivering the backlog it found (client-paced)',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  private readonly feedReads = new Counter({
    name: 'wallet_events_feed_reads_total',
    help: 'Reads of the log by the firehose: wake (a commit announced itself), retry (an announced commit was not readable yet), look (the periodic look), replay (a reader behind its feed’s ring)',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly feedLag = new Histogram({
    name: 'wallet_events_feed_lag_seconds',
    help: 'From an event being written to its reaching the firehose (readable once every older transaction has ended)',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly startedAt = new Date();
  private readonly eventsIn = new RateWindow();
  private readonly eventsOut = new RateWindow();
  private readonly recentLatencies = new LatencySamples();

  constructor(
    private readonly gauges: {
      connections: () => Record<string, number>;
      subscriptionsByField: () => Record<string, number>;
      feeds: () => { owners: number; ringBytes: number };
      /** MAX_CONNECTIONS, so saturation is one division in PromQL. */
      connectionLimit: number;
    },
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: 'wallet_events_' });
    new Gauge({ name: 'wallet_events_connections_limit', help: 'Connections this instance accepts at most (MAX_CONNECTIONS)', registers: [this.registry] }).set(gauges.connectionLimit);
    new Gauge({
      name: 'wallet_events_feeds',
      help: 'Owners with a feed on this instance (owners with local subscribers)',
      registers: [this.registry],
      collect() {
        this.set(gauges.feeds().owners);
      },
    });
    new Gauge({
      name: 'wallet_events_feed_ring_bytes',
      help: 'Bytes of recent events held by all feed rings of this instance (bounded by FEED_RING_TOTAL_BYTES)',
      registers: [this.registry],
      collect() {
        this.set(gauges.feeds().ringBytes);
      },
    });
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
      help: 'Active subscriptions on this instance by subscription field',
      labelNames: ['field'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [field, count] of Object.entries(gauges.subscriptionsByField())) this.set({ field }, count);
      },
    });
  }

  onAppended = (count: number): void => {
    this.appended.inc(count);
    this.eventsIn.add(count);
  };

  /** How pushes end, and how long after their event's commit they were taken. */
  readonly push: PushObserver = {
    onPush: (platform, outcome, lagMs) => {
      this.pushes.inc({ platform, outcome });
      if (lagMs !== null) this.pushLag.observe({ platform }, lagMs / 1000);
    },
  };

  /** A committed transaction made a notification of `kind`. */
  onNotified = (kind: NotificationKind): void => {
    this.notified.inc({ kind });
  };

  /** A subscription result carrying `event` is handed to the transport; `fromLog`: replayed. */
  onSent = (event: WalletEvent, fromLog: boolean): void => {
    const now = Date.now();
    this.eventsOut.add(1, now);
    // A replayed event's age is how far behind its reader was, not how fast delivery is.
    if (fromLog) return;
    const ageMs = liveAgeMs(event, now);
    if (ageMs === null) return;
    this.sendLatency.observe(ageMs / 1000);
    this.recentLatencies.add(ageMs, now);
  };

  /** The figures `serverStats` reports. */
  snapshot(): ServerStatsSnapshot {
    const now = Date.now();
    const sorted = (record: Record<string, number>) => Object.entries(record).sort(([a], [b]) => a.localeCompare(b));
    return {
      instance: `${hostname()}:${process.pid}`,
      startedAt: this.startedAt,
      connections: sorted(this.gauges.connections()).map(([transport, count]) => ({ transport, count })),
      subscriptions: sorted(this.gauges.subscriptionsByField()).map(([field, count]) => ({ field, count })),
      eventsInPerSecond: this.eventsIn.perSecond(now),
      eventsOutPerSecond: this.eventsOut.perSecond(now),
      commitToSendMs: this.recentLatencies.summary(now),
    };
  }
  onPublished = (count: number): void => this.published.inc(count);
  onDropped = (): void => this.dropped.inc();
  onTransaction = (outcome: 'committed' | 'rolled_back'): void => this.transactions.inc({ outcome });
  onAck = (): void => this.acks.inc();

  /** The observer given to every event stream. */
  readonly stream: StreamObserver = {
    delivered: (event, replayed) => {
      this.delivered.inc();
      // A replayed event's age is how far behind its reader was, not how fast delivery is.
      if (replayed) return;
      const ageMs = liveAgeMs(event, Date.now());
      if (ageMs !== null) this.latency.observe(ageMs / 1000);
    },
    replayed: () => this.replays.inc(),
    replayFinished: (ms) => this.replayDuration.observe(ms / 1000),
    ended: (code) => this.endings.inc({ code }),
    paused: () => this.pauses.inc(),
  };

  private readonly webhookAttempts = new Counter({
    name: 'wallet_events_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome: delivered (2xx), failed (any other answer, a timeout, a refused connection), gone (410: the endpoint is disabled)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  private readonly webhookDuration = new Histogram({
    name: 'wallet_events_webhook_attempt_duration_seconds',
    help: 'From sending a webhook request to the end of its response (or its failure)',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly webhookDeaths = this.counter('wallet_events_webhook_dead_total', 'Webhook deliveries that went dead after their last attempt');
  private readonly breakerTransitions = new Counter({
    name: 'wallet_events_webhook_breaker_transitions_total',
    help: 'Circuit breaker transitions of webhook endpoints: open (paused after consecutive failures), half_open (one probe), closed (resumed)',
    labelNames: ['to'],
    registers: [this.registry],
  });

  /** What webhook workers report. */
  readonly webhooks: WebhookObserver = {
    attempt: (outcome, ms) => {
      this.webhookAttempts.inc({ outcome });
      this.webhookDuration.observe(ms / 1000);
    },
    died: (count) => this.webhookDeaths.inc(count),
    breaker: (to) => this.breakerTransitions.inc({ to }),
  };

  /** Gauges of the endpoints `source` delivers: lag, breaker state and dead letters, per endpoint. */
  watchWebhooks(source: WebhookGaugeSource): void {
    new Gauge({
      name: 'wallet_events_webhook_lag_seconds',
      help: 'Per endpoint delivered here: age of the oldest event it has not delivered yet (0 when caught up)',
      labelNames: ['endpoint'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const worker of source.localWorkers) this.set({ endpoint: worker.id }, worker.lagSeconds());
      },
    });
    new Gauge({
      name: 'wallet_events_webhook_breaker_open',
      help: 'Per endpoint delivered here: 1 while its circuit breaker keeps it paused, else 0',
      labelNames: ['endpoint'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const worker of source.localWorkers) this.set({ endpoint: worker.id }, worker.breakerOpen ? 1 : 0);
      },
    });
    new Gauge({
      name: 'wallet_events_webhook_dead_letters',
      help: 'Per endpoint delivered here: deliveries in the dead-letter queue',
      labelNames: ['endpoint'],
      registers: [this.registry],
      async collect() {
        const counts = await source.localDeadLetters().catch(() => new Map<string, number>());
        this.reset();
        for (const worker of source.localWorkers) this.set({ endpoint: worker.id }, counts.get(worker.id) ?? 0);
      },
    });
  }

  private readonly databaseReads = new Counter({
    name: 'wallet_events_database_reads_total',
    help: 'Reads that may go to a replica, by where they went: replica, or the primary because no replica was in rotation (no_replica), it had not replayed far enough within REPLICA_READ_WAIT (lagging), or it failed (failed)',
    labelNames: ['route'],
    registers: [this.registry],
  });

  /** What the replica set reports of each read. */
  readonly reads = { onRead: (route: string) => this.databaseReads.inc({ route }) };

  /** Gauges of the database replicas: lag and rotation, per replica. */
  watchReplicas(source: { states(): readonly { name: string; inRotation: boolean; lagMs: number | null }[] }): void {
    new Gauge({
      name: 'wallet_events_replica_lag_seconds',
      help: 'Per replica: how long ago the primary stood where its replay is now, at the last check (absent while it cannot be measured)',
      labelNames: ['replica'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const state of source.states()) if (state.lagMs !== null) this.set({ replica: state.name }, state.lagMs / 1000);
      },
    });
    new Gauge({
      name: 'wallet_events_replica_in_rotation',
      help: 'Per replica: 1 while it takes reads, 0 while it is out of rotation (failing, promoted, or past REPLICA_MAX_LAG)',
      labelNames: ['replica'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const state of source.states()) this.set({ replica: state.name }, state.inRotation ? 1 : 0);
      },
    });
  }

  /** What the firehose reports. */
  readonly firehose: FirehoseObserver = {
    read: (reason) => this.feedReads.inc({ reason }),
    reached: (event) => {
      const ms = Date.now() - Date.parse(event.occurredAt);
      if (ms >= 0) this.feedLag.observe(ms / 1000);
    },
  };

  readonly feeds: OwnerFeedObserver = {
    logRead: (reason) => this.logReads.inc({ reason }),
    gapRepaired: (events) => this.gaps.inc(events),
  };

  private counter(name: string, help: string): Counter {
    return new Counter({ name, help, registers: [this.registry] });
  }
}
