/** Paging the firehose (`feed`) as a poller does, for tests. */
import { gqlData } from './clients.ts';

/** What the helpers below read of each feed event. */
export interface FeedNode {
  eventId: string;
  ownerId: string;
  sequence: number;
}

/** One page of the feed: ids and sequences, with the page's cursors. */
export const FEED = `query($after: String, $first: Int, $partition: FeedPartition, $tenant: String) {
  feed(after: $after, first: $first, partition: $partition, tenant: $tenant) { edges { cursor node { eventId ownerId sequence } } pageInfo { hasNextPage endCursor } }
}`;

/**
 * Pages the feed from `after` until it has nothing more to give now; returns the events and
 * where it stopped. `query` is a feed document taking `$after` and `$first` and selecting
 * `edges { node }` and `pageInfo { hasNextPage endCursor }` (by default {@link FEED}).
 */
export async function pageAll<T = FeedNode>(url: string, bearer: string, after: string | null, variables: Record<string, unknown> = {}, query = FEED) {
  const events: T[] = [];
  for (;;) {
    const { feed } = await gqlData(url, bearer, query, { after, first: 500, ...variables });
    events.push(...feed.edges.map((edge: { node: T }) => edge.node));
    after = feed.pageInfo.endCursor ?? after;
    if (!feed.pageInfo.hasNextPage) return { events, after };
  }
}

/**
 * Pages the feed until at least `count` events after `after` are readable (15 s at most;
 * then what is readable). The horizon is the database server's oldest running transaction,
 * in any database, so another suite's transaction can hold a fresh commit back for a moment.
 */
export async function readable<T = FeedNode>(url: string, bearer: string, after: string | null, count: number, variables: Record<string, unknown> = {}, query = FEED) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const page = await pageAll<T>(url, bearer, after, variables, query);
    if (page.events.length >= count || Date.now() > deadline) return page;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
