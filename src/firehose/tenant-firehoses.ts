/**
 * The firehose feeds of this instance, one per tenant with readers (and one for every
 * tenant, for admins). Commits anywhere wake them through one backbone topic; a periodic
 * look covers a lost wake or an absent backbone, as the head check does for owner feeds.
 */
import type { FirehosePosition } from '../domain/events.ts';
import type { Logger } from '../logging/logger.ts';
import type { FirehoseLog, FirehoseScope } from './firehose-log.ts';
import { eventFilter } from '../domain/event-filter.ts';
import { COMMIT_WAKE_TOPIC, readCommitWake } from '../backbone/commit-wakes.ts';
import { FirehoseStream, type FirehoseStreamOptions } from './firehose-stream.ts';
import type { OwnerFeeds } from '../streams/owner-feeds.ts';
import type { PubSub } from '../backbone/pubsub.ts';
import { TenantFirehose, type FirehoseObserver, type TenantFirehoseOptions } from './tenant-firehose.ts';

export interface TenantFirehosesOptions extends TenantFirehoseOptions {
  /** How often every feed looks at the log on its own (a lost wake, no backbone). */
  lookIntervalMs: number;
  maxMessageBytes: number;
  /** How long a new feed waits for the backbone to confirm its subscription before going on without it. */
  attachTimeoutMs: number;
  /** Limits every firehose stream gets (as owner streams do). */
  streams: Pick<FirehoseStreamOptions, 'pageSize' | 'tokenClockSkewMs' | 'maxBufferedBytes' | 'slowConsumerTimeoutMs'>;
}

/** What one firehose subscription brings besides its scope and position. */
export type FirehoseRequest = Pick<FirehoseStreamOptions, 'openedBy' | 'connection'>;

/** The key of the feed serving every tenant (not a tenant name: those cannot contain `*`). */
const ALL_TENANTS = '*';

export class TenantFirehoses {
  private readonly feeds = new Map<string, Promise<TenantFirehose>>();
  private streams = 0;
  private listening: Promise<unknown> | null = null;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly deps: { pubsub: PubSub; log: FirehoseLog; feeds: OwnerFeeds; logger: Logger; observer?: FirehoseObserver },
    private readonly options: TenantFirehosesOptions,
  ) {
    deps.feeds.onBroadcast((signal) => this.each((feed) => feed.broadcast(signal)));
    this.timer = setInterval(() => this.each((feed) => feed.wake()), options.lookIntervalMs);
    this.timer.unref();
  }

  /**
   * Opens a stream of `scope`'s feed after `after` (null: from what is readable now). The
   * feed listens for wakes before it reads where it stands, so nothing committed after
   * that read is missed.
   */
  async open(scope: FirehoseScope, after: FirehosePosition | null, request: FirehoseRequest): Promise<FirehoseStream> {
    const name = scope.tenant ?? ALL_TENANTS;
    let created = this.feeds.get(name);
    if (!created) this.feeds.set(name, (created = this.create(scope.tenant)));
    let feed: TenantFirehose;
    try {
      feed = await created;
    } catch (error) {
      if (this.feeds.get(name) === created) this.feeds.delete(name);
      throw error;
    }
    this.streams++;
    const stream = new FirehoseStream(feed, this.deps.log, after ?? feed.head, {
      ...this.options.streams,
      ...request,
      scope,
      filter: eventFilter({ ...scope.criteria, types: scope.types }),
      onReplay: () => this.deps.observer?.read('replay'),
      onEnd: () => this.streams--,
    });
    feed.add(stream);
    stream.joined(() => {
      if (feed.remove(stream) && this.feeds.get(name) === created) {
        this.feeds.delete(name);
        feed.close();
      }
    });
    return stream;
  }

  /** Tenants with a feed here, for gauges. */
  get size(): number {
    return this.feeds.size;
  }

  /** Open firehose streams. */
  get streamCount(): number {
    return this.streams;
  }

  close(): void {
    clearInterval(this.timer);
    this.each((feed) => feed.close());
  }

  private async create(tenant: string | null): Promise<TenantFirehose> {
    const listening = (this.listening ??= this.deps.pubsub.subscribe(COMMIT_WAKE_TOPIC, (raw) => this.onWake(raw)).catch((error: Error) => {
      // Tried again by the next feed; until then the periodic look carries the feed.
      this.listening = null;
      this.deps.logger.warn('firehose wake subscription failed', { error: error.message });
    }));
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([listening, new Promise((resolve) => (timer = setTimeout(resolve, this.options.attachTimeoutMs)))]);
    clearTimeout(timer);
    const start = await this.deps.log.lastPosition(tenant);
    return new TenantFirehose(tenant, this.deps.log, this.options, start, this.deps.observer);
  }

  private onWake(raw: string): void {
    const wake = readCommitWake(raw, this.options.maxMessageBytes);
    if ('refused' in wake) {
      this.deps.logger.warn('dropped a malformed feed wake', { reason: wake.refused });
      return;
    }
    for (const tenant of [...wake.tenants, ALL_TENANTS]) void this.feeds.get(tenant)?.then((feed) => feed.wake(wake.txId), () => {});
  }

  private each(action: (feed: TenantFirehose) => void): void {
    for (const created of this.feeds.values()) void created.then(action, () => {});
  }
}
