/** `npm run docs`: rewrites the README's generated tables from the code's declarations. */
import { readFileSync, writeFileSync } from 'node:fs';
import { withTables } from './tables.ts';

const path = new URL('../../README.md', import.meta.url);
const before = readFileSync(path, 'utf8');
const after = withTables(before);
if (after !== before) writeFileSync(path, after);
process.stdout.write(after === before ? 'README.md tables are up to date\n' : 'README.md tables rewritten\n');
