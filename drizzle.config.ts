import { defineConfig } from 'drizzle-kit';

// Migrations are generated from the table definitions; the server applies them at start-up.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './drizzle',
});
