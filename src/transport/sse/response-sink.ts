/** An HTTP response carrying an event stream, as a {@link Sink}. */
import type { ServerResponse } from 'node:http';
import type { Sink } from '../core/sink.ts';

/** Headers every event stream gets: no caching, no proxy buffering, no compression. */
export const EVENT_STREAM_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'content-encoding': 'none',
  'x-accel-buffering': 'no',
};

/**
 * Wraps `res` (headers not yet sent). Writes are plain `res.write`s; backpressure is the
 * response's own buffer. `close` ends the stream after a comment naming the reason (an
 * event stream has no close code; the comment helps whoever reads it by hand).
 */
export function responseSink(res: ServerResponse): Sink {
  return {
    send(frame) {
      if (!res.writableEnded && !res.destroyed) res.write(frame);
    },
    bufferedBytes: () => res.writableLength,
    // An EventSource stream is not closed at expiry: each stream ends itself, saying why.
    closesAtTokenExpiry: false,
    onDrain(listener) {
      res.on('drain', listener);
      return () => res.off('drain', listener);
    },
    close(code, reason) {
      if (res.writableEnded || res.destroyed) return;
      res.end(`: closed ${code} ${reason.replace(/[\r\n]+/g, ' ')}\n\n`);
    },
  };
}
