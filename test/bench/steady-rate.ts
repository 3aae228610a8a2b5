/** Committing at a steady rate, for the delay figures: the open loop the webhook and push benches share. */

/**
 * Commits `postings` postings at `perSecond`, in 50 commits a second (each `post(count)`
 * one call), without waiting for one commit before the next is due; resolves when all
 * have answered.
 */
export async function postAtSteadyRate(postings: number, perSecond: number, post: (count: number) => Promise<void>): Promise<void> {
  const batch = Math.max(1, Math.round(perSecond / 50));
  const inFlight: Promise<void>[] = [];
  const began = performance.now();
  for (let sent = 0; sent < postings; sent += batch) {
    const wait = began + (sent / batch) * 20 - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(post(Math.min(batch, postings - sent)));
  }
  await Promise.all(inFlight);
}
