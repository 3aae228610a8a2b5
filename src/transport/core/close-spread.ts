/**
 * Spreads work over a time window on one timer: at each tick, everything whose share of
 * the window has come is done. One awaited timer per item would take at least a timer's
 * resolution per item (50,000 sockets: 50 s or more), whatever the window; this ends
 * within the window for any count.
 */

/** How often the spread advances; small enough to look smooth, large enough to be cheap. */
const TICK_MS = 20;

/**
 * Calls `close` on every item, the i-th at about `windowMs * i / items.length` from now.
 * Resolves once all are done (at the latest about one tick after the window ends).
 */
export async function closeSpread<T>(items: readonly T[], windowMs: number, close: (item: T) => void): Promise<void> {
  const started = Date.now();
  let done = 0;
  while (done < items.length) {
    const elapsed = Date.now() - started;
    const due = windowMs <= 0 ? items.length : Math.min(items.length, Math.ceil((items.length * elapsed) / windowMs) || 1);
    for (; done < due; done++) close(items[done]!);
    if (done < items.length) await new Promise((resolve) => setTimeout(resolve, TICK_MS));
  }
}
