/**
 * Headless Chromium for the browser tests: Debian's (CHROMIUM_PATH to use another), started
 * with the flags this machine's closed network needs. Where it is missing, the tests that
 * need it are skipped and say so, unless REQUIRE_SERVICES=1 (CI), where that is an error.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Whether Chromium is here; throws under REQUIRE_SERVICES=1 when it is not, naming `what` would be skipped. */
export function chromiumFor(what: string): boolean {
  const here = existsSync(CHROMIUM);
  if (!here && process.env.REQUIRE_SERVICES === '1') {
    throw new Error(`REQUIRE_SERVICES=1 but no Chromium at ${CHROMIUM} (apt-get install chromium): ${what} would be skipped`);
  }
  return here;
}

/** A headless Chromium that makes no request of its own (updates, sync, QUIC probes). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
