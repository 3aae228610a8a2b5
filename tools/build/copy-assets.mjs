// The files the compiled server reads beside its modules (the dashboard's page, script,
// style and icon), copied from src/ to dist/ after tsc, which copies only what it compiles.
import { cpSync } from 'node:fs';

const ASSET_DIRS = ['transport/http/dashboard'];

for (const dir of ASSET_DIRS) {
  cpSync(new URL(`../../src/${dir}`, import.meta.url), new URL(`../../dist/${dir}`, import.meta.url), { recursive: true });
}
