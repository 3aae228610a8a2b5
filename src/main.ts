/** Start-up: config → app → listen. SIGTERM/SIGINT stop it cleanly. */
import { createApp } from './app.ts';
import { ConfigError, loadConfig } from './config/load.ts';
import { DataDirError } from './db/data-dir-lock.ts';

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await createApp(config);
  for (const warning of config.warnings) app.logger.warn(warning);
  if (app.keySource !== 'configured') {
    app.logger.warn(
      app.devSecretPath
        ? `no JWT_SECRET set: using a development secret kept in ${app.devSecretPath} (never do this in production)`
        : 'no JWT_SECRET set: using a random development secret for this process only',
    );
  }
  const port = await app.listen();
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const backends = `${config.databaseUrl ? 'PostgreSQL' : `PGlite (${config.dataDir})`} + ${config.redisClusterNodes ? 'Redis Cluster (sharded pub/sub)' : config.redisUrl ? 'Redis' : 'in-process pub/sub'}`;
  app.logger.info('listening', { url: `http://${host}:${port}/graphql`, backends });
  process.stdout.write(
    [
      '',
      `  wallet-events is running on ${backends}`,
      `  GraphiQL:  http://${host}:${port}/graphql`,
      `  Dashboard: http://${host}:${port}/   (paste a user token; or try npm run demo)`,
      `  Tokens:    npm run token -- --sub alice --role user      (a wallet owner)`,
      `             npm run token -- --sub producer --role service (creates wallets, posts transactions)`,
      `  Put one in GraphiQL's Headers tab: {"Authorization": "Bearer <token>"}`,
      '',
    ].join('\n') + '\n',
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.logger.info('stopping', { signal });
    app.stop(1001).then(
      () => process.exit(0),
      (error: Error) => {
        app.logger.error('stop failed', { error });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: Error) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`configuration error: ${error.message}\n`);
  } else if (error instanceof DataDirError) {
    process.stderr.write(`start-up failed: ${error.message}\n`);
  } else {
    process.stderr.write(`start-up failed: ${error.stack ?? error.message}\n`);
  }
  process.exit(1);
});
