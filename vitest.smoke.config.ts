import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.ts';

/** `npm run test:smoke`: the long smoke runs (the benchmark at its smallest scale), apart from `npm test`. */
export default mergeConfig(base, defineConfig({ test: { include: ['test/smoke/**/*.smoke.ts'] } }));
