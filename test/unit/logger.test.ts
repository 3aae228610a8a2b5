/**
 * The log: pino underneath, one JSON line per entry with the level by
 * name, and no credential in any line, wherever it sits in the fields.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging/logger.ts';

function captured(level: Parameters<typeof createLogger>[0] = 'debug') {
  const lines: Record<string, any>[] = [];
  const log = createLogger(level, (line) => lines.push(JSON.parse(line)));
  return { log, lines };
}

describe('the logger', () => {
  it('writes JSON lines with time, level by name, msg and the fields, from its level up', () => {
    const { log, lines } = captured('info');
    log.debug('not shown');
    log.info('listening', { url: 'http://localhost:4000/graphql' });
    log.child({ connection: 7 }).warn('connection refused', { reason: 'limit' });
    expect(lines.map(({ time, ...rest }) => rest)).toEqual([
      { level: 'info', msg: 'listening', url: 'http://localhost:4000/graphql' },
      { level: 'warn', msg: 'connection refused', connection: 7, reason: 'limit' },
    ]);
    expect(Number.isNaN(Date.parse(lines[0]!.time))).toBe(false);
  });

  it('redacts tokens and authorization headers at any depth it names', () => {
    const { log, lines } = captured();
    const secret = 'eyJhbGciOiJIUzI1NiJ9.secret-part.signature';
    log.info('request', {
      authorization: `Bearer ${secret}`,
      headers: { authorization: `Bearer ${secret}`, Authorization: `Bearer ${secret}` },
      connectionParams: { payload: { authorization: `Bearer ${secret}` } },
      token: secret,
      query: { token: secret },
    });
    const text = JSON.stringify(lines);
    expect(text).not.toContain('secret-part');
    expect(lines[0]!.headers.authorization).toBe('[redacted]');
    expect(lines[0]!.connectionParams.payload.authorization).toBe('[redacted]');
  });

  it('logs an error with its message, stack and cause', () => {
    const { log, lines } = captured();
    log.error('internal error', { error: new Error('Failed query: select 1', { cause: new Error('connection reset') }) });
    expect(lines[0]!.error).toMatchObject({ message: 'Failed query: select 1', cause: { message: 'connection reset' } });
    expect(lines[0]!.error.stack).toContain('Error: Failed query');
  });
});
