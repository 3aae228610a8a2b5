/**
 * `npm run token -- --sub alice --role user [--ttl 12h] [--tenant acme]`: prints a
 * development JWT signed with JWT_SECRET, or with the generated secret the server keeps in
 * DATA_DIR. `--tenant` scopes a service token to one tenant's owners.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/load.ts';
import { ROLES, TENANT_PATTERN, type Role } from '../domain/principal.ts';
import { loadOrCreateDevSecret } from './dev-secret.ts';
import { mintToken } from './mint.ts';

const USAGE = 'usage: npm run token -- --sub <owner-id> --role <user|service|admin> [--ttl <seconds|30m|12h|7d>] [--tenant <name>]';

/** Parses `90`, `30m`, `12h`, `7d` into seconds. */
function parseTtl(text: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (!match) throw new Error(`--ttl must look like 3600, 30m, 12h or 7d, got "${text}"`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  const seconds = Number(match[1]) * unit;
  if (seconds <= 0) throw new Error('--ttl must be positive');
  return seconds;
}

const HELP = `${USAGE}

Prints a development JWT signed with JWT_SECRET, or with the secret the server generated
and keeps in DATA_DIR (so run it in the server's checkout, with the same environment).

  --sub     the owner id (users) or the producer's name (services)      required
  --role    user (own wallets), service (producers, within a tenant),
            admin (platform-wide)                                       default user
  --ttl     lifetime: seconds, or 30m, 12h, 7d                          default 12h
  --tenant  the tenant of a service token                                default "default"
  --help    this text
`;

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      options: { sub: { type: 'string' }, role: { type: 'string', default: 'user' }, ttl: { type: 'string', default: '12h' }, tenant: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${USAGE}\n(npm run token -- --help explains each option)`);
  }
  const { values } = parsed;
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  if (!values.sub) throw new Error(`--sub is required\n${USAGE}`);
  if (!ROLES.includes(values.role as Role)) throw new Error(`--role must be one of ${ROLES.join(', ')}\n${USAGE}`);
  if (values.tenant !== undefined) {
    if (values.role !== 'service') throw new Error(`--tenant applies to service tokens only (admins are platform-wide, users reach their own owner id)\n${USAGE}`);
    if (!TENANT_PATTERN.test(values.tenant)) throw new Error(`--tenant must be letters, digits, ".", "_" and "-" (at most 64), got "${values.tenant}"`);
  }
  const config = loadConfig();
  if (config.auth.publicKey || config.auth.jwksUrl) throw new Error('a public key or JWKS is configured: tokens must come from the holder of the private key');
  if (!config.auth.secret && config.dataDir.startsWith('memory://')) {
    throw new Error('DATA_DIR is in memory, so the server has no stored secret to share: set JWT_SECRET for both');
  }
  const secret = config.auth.secret ?? (await loadOrCreateDevSecret(config.dataDir)).secret;
  const ttlSeconds = parseTtl(values.ttl!);
  if (ttlSeconds > (config.auth.maxTokenAgeMs / 1000)) {
    // The server refuses a token older than JWT_MAX_TOKEN_AGE, whatever its exp: say so now.
    process.stderr.write(`warning: --ttl is longer than JWT_MAX_TOKEN_AGE (${(config.auth.maxTokenAgeMs / 1000)} s); the server will refuse this token once it is that old\n`);
  }
  const token = await mintToken(secret, {
    subject: values.sub,
    role: values.role as Role,
    ttlSeconds,
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    algorithm: config.auth.algorithm,
    tenant: values.tenant ?? null,
  });
  process.stdout.write(`${token}\n`);
}

main().catch((error: Error) => {
  process.stderr.write(`${error instanceof ConfigError ? 'configuration error: ' : ''}${error.message}\n`);
  process.exit(1);
});
