/**
 * How a stream hands the way on to whoever waits on it: a `next()` awaiting a promise, or
 * a reader parked by `whenReady` that holds no promise at all.
 */

/** A reader parked on a stream: resumed once when more may be ready. An object, so that a waiting subscription needs no closure. */
export interface Resumable {
  resume(): void;
}

/** What a stream's one waiter is: a promise's resolve, or a parked reader. */
export type Waiter = (() => void) | Resumable;

/** Resumes `waiter`, if any. */
export function resumeWaiter(waiter: Waiter | null): void {
  if (typeof waiter === 'function') waiter();
  else waiter?.resume();
}
