import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

/**
 * `npm run test:smoke`: the long runs, apart from `npm test` (CI runs both) so that the
 * suite stays under five minutes on two cores: the scale tests (test/scale/: thousands of
 * owners, sockets, calls or subscribe cycles), the fault runs (test/faults/: stalled readers
 * filling kernel buffers, commits held back, a replica paused and killed, a Redis Cluster
 * losing a master, instances killed with -9), and the load tool and the benchmark at their
 * smallest scale (test/smoke/).
 */
export default defineConfig({ ...base, test: { ...base.test, include: ['test/scale/**/*.scale.ts', 'test/faults/**/*.fault.ts', 'test/smoke/**/*.smoke.ts'] } });
