/**
 * Batched socket writes: every frame sent to a WebSocket during one turn of the event loop
 * leaves in a single write (one `writev` system call) at the end of the turn, instead of
 * one call per frame. A burst of events for one owner (a batch of postings, a replay page)
 * then costs each of its subscribers one system call, not one per event.
 *
 * It works by corking the TCP socket under the WebSocket at its first send in a turn and
 * uncorking every corked socket once, from a single `setImmediate` (no timer per socket).
 *
 * A send is reported done as soon as it is queued, not once the kernel took it: graphql-ws
 * waits for that before it takes a subscription's next result, and waiting for the write
 * would allow one frame per subscription per turn. Backpressure does not depend on it: a
 * client whose unsent bytes pass SLOW_CONSUMER_BYTES has its streams paused until the
 * connection drains.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

const corked = new Set<Socket>();
let flushScheduled = false;

function flush(): void {
  flushScheduled = false;
  for (const socket of corked) socket.uncork();
  corked.clear();
}

/** Makes `ws`'s sends batch per event-loop turn; call once per socket, at connection. */
export function batchWrites(ws: WebSocket): void {
  // ws keeps the TCP socket here; its own per-frame cork nests inside ours.
  const tcp = (ws as unknown as { _socket?: Socket })._socket;
  if (!tcp || typeof tcp.cork !== 'function') return;
  const send = ws.send.bind(ws) as (...args: unknown[]) => void;
  ws.send = ((...args: unknown[]) => {
    const done = typeof args.at(-1) === 'function' ? (args.pop() as (error?: Error) => void) : null;
    if (!corked.has(tcp) && !tcp.destroyed) {
      tcp.cork();
      corked.add(tcp);
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flush);
      }
    }
    // A failed write closes the socket, and graphql-ws ends its subscriptions on close.
    send(...args, () => {});
    if (done) queueMicrotask(done);
  }) as WebSocket['send'];
  tcp.once('close', () => corked.delete(tcp));
}
