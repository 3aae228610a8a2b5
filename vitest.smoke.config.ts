import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

/**
 * `npm run test:smoke`: the long runs, apart from `npm test` (CI runs both): the scale
 * tests (test/scale/: the isolation fuzz, 1,000 owners' rings, a drain of 19,000 sockets)
 * and the benchmark at its smallest scale (test/smoke/).
 */
export default defineConfig({ ...base, test: { ...base.test, include: ['test/scale/**/*.scale.ts', 'test/smoke/**/*.smoke.ts'] } });
