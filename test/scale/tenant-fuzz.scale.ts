/**
 * Tenant isolation fuzz: 1,000 seeded random calls, twenty at a time, each by one tenant's
 * service token naming another tenant's owner, wallet, transaction or event. Every one is
 * refused with FORBIDDEN and nothing changes. The rules one by one are in test/tenants.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { BACKENDS, label } from '../support/backends.ts';
import { serverOn } from '../support/fixture.ts';
import { seededRandom } from '../support/random.ts';
import { attempt, crossingCalls, stateOf, world } from '../support/tenant-worlds.ts';

describe.each(BACKENDS)('tenant isolation fuzz on $name', (backend) => {
  describe.skipIf(!backend.available)(label(backend), () => {
    const t = serverOn(backend);

    it('lets nothing through in 1,000 random calls across tenants', async () => {
      const worlds = await Promise.all(['t1', 't2', 't3'].map((name) => world(t.server, `${name}-${backend.name}`)));
      const before = await Promise.all(worlds.map(stateOf));
      const random = seededRandom(20261123);
      const outcomes = new Map<string, number>();
      for (let i = 0; i < 1_000; i += 20) {
        // Twenty at a time: a random caller, a random other tenant, a random operation.
        await Promise.all(
          Array.from({ length: 20 }, async () => {
            const caller = random.pick(worlds);
            const target = random.pick(worlds.filter((w) => w !== caller));
            const call = random.pick(crossingCalls(target).filter((c) => c.kind === 'http' || random.next() < 0.2));
            const result = await attempt(t.server, call, caller.serviceToken);
            const key = `${call.name}: ${result.join(',')}`;
            outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
          }),
        );
      }
      const leaks = [...outcomes].filter(([key]) => !key.endsWith(': FORBIDDEN'));
      expect(leaks, 'calls that were not refused').toEqual([]);
      expect([...outcomes.values()].reduce((a, b) => a + b, 0)).toBe(1_000);
      expect(await Promise.all(worlds.map(stateOf))).toEqual(before);
    });
  });
});
