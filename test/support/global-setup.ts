/** Says once, up front, whether the PostgreSQL + Redis half of the suite will run. */
export default function setup(): void {
  const configured = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);
  if (configured) {
    process.stdout.write('PostgreSQL + Redis suites: running (DATABASE_URL and REDIS_URL are set)\n');
  } else if (process.env.REQUIRE_SERVICES === '1') {
    throw new Error('REQUIRE_SERVICES=1 but DATABASE_URL and REDIS_URL are not both set');
  } else {
    process.stdout.write(
      '\n*** PostgreSQL + Redis suites: SKIPPED — set DATABASE_URL and REDIS_URL to run them (e.g. postgres://postgres@127.0.0.1:5432/test and redis://127.0.0.1:6379) ***\n\n',
    );
  }
}
