/**
 * Reports messages dropped from the backbone without flooding the logger: the first one on
 * a channel is logged at once, with its channel and why; further ones on that channel
 * are counted and summed up in one line at most once a minute.
 */
import type { Logger } from '../logging/logger.ts';

const REPORT_EVERY_MS = 60_000;

export class DroppedMessages {
  private readonly channels = new Map<string, { lastReport: number; since: number }>();

  constructor(
    private readonly logger: Logger,
    /** Told of every dropped message (metrics). */
    private readonly onDropped: () => void = () => {},
  ) {}

  /** Records that a message on `channel` was dropped for `reason`. */
  drop(channel: string, reason: string, now = Date.now()): void {
    this.onDropped();
    const seen = this.channels.get(channel);
    if (seen && now - seen.lastReport < REPORT_EVERY_MS) {
      seen.since++;
      return;
    }
    this.logger.warn('dropped a malformed backbone message', { channel, reason, droppedSinceLastReport: seen?.since ?? 0 });
    this.channels.set(channel, { lastReport: now, since: 0 });
    // Forget quiet channels, so a flood over many channel names cannot grow this map for ever.
    if (this.channels.size > 10_000) for (const [name, entry] of this.channels) if (now - entry.lastReport >= REPORT_EVERY_MS) this.channels.delete(name);
  }
}
