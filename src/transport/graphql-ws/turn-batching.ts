/**
 * Batched socket writes: every frame written to a connection during one turn of the event
 * loop leaves in a single write (one `writev` system call) at the end of the turn, instead
 * of one call per frame. A burst of events for one owner (a batch of postings, a replay
 * page) then costs each of its subscribers one system call, not one per event.
 *
 * The TCP socket is corked at its first write in a turn, and one `setImmediate` uncorks
 * every corked socket (no timer per socket).
 */
import type { Socket } from 'node:net';

const corked = new Set<Socket>();
let flushScheduled = false;

function flush(): void {
  flushScheduled = false;
  for (const socket of corked) socket.uncork();
  corked.clear();
}

/** Holds `tcp`'s writes until the end of this event-loop turn; call before each write. */
export function holdUntilTurnEnds(tcp: Socket): void {
  if (corked.has(tcp) || tcp.destroyed) return;
  tcp.cork();
  corked.add(tcp);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flush);
  }
}

/** Forgets `tcp` (it closed): nothing is left to flush. */
export function forgetSocket(tcp: Socket): void {
  corked.delete(tcp);
}
