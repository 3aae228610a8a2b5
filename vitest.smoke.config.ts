import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

/** `npm run test:smoke`: the long smoke runs (the benchmark at its smallest scale), apart from `npm test`. */
export default defineConfig({ ...base, test: { ...base.test, include: ['test/smoke/**/*.smoke.ts'] } });
