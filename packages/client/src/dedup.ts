/**
 * Remembers the most recent event ids (a bounded window, oldest forgotten first), so a
 * redelivered event is recognized and handed to the app only once.
 */
export class RecentIds {
  private readonly ids = new Set<string>();

  constructor(private readonly capacity = 10_000) {}

  /** True when `id` was seen before; otherwise records it. */
  seen(id: string): boolean {
    if (this.ids.has(id)) return true;
    this.ids.add(id);
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value as string);
    return false;
  }
}
