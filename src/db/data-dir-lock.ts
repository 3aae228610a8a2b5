/**
 * One process per PGlite data directory. PGlite keeps no lock of its own: a second process
 * opening the same directory sees a stale copy, and both writing damage it. A lock file in
 * the directory names its owner; a second process is refused with that name, and a lock
 * whose process is gone (a crash, kill -9) is taken over.
 */
import { openSync, readFileSync, unlinkSync, writeSync, closeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** The lock file's name inside the data directory. */
export const LOCK_FILE = 'wallet-events.lock';

/** A data directory that cannot be used; `dataDir` names it. */
export class DataDirError extends Error {
  constructor(
    readonly dataDir: string,
    message: string,
  ) {
    super(message);
    this.name = 'DataDirError';
  }
}

interface Owner {
  pid: number;
  host: string;
  since: string;
}

/** Takes the lock of `dataDir` for this process; returns the function that gives it back. */
export function lockDataDir(dataDir: string): () => void {
  const path = join(dataDir, LOCK_FILE);
  const me: Owner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try {
          if (ownerOf(path)?.pid === process.pid) unlinkSync(path);
        } catch {
          // already gone
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = ownerOf(path);
    if (owner && isAlive(owner)) {
      throw new DataDirError(
        dataDir,
        `the data directory ${dataDir} is in use by process ${owner.pid} on ${owner.host} (since ${owner.since}); stop that process, or set DATA_DIR to another directory`,
      );
    }
    // The owner is gone (it crashed): its lock is stale.
    try {
      unlinkSync(path);
    } catch {
      // another process took it over first; the next attempt sees its lock
    }
  }
  throw new DataDirError(dataDir, `could not take the lock of the data directory ${dataDir} (${path})`);
}

function ownerOf(path: string): Owner | null {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<Owner>;
    return typeof parsed.pid === 'number' ? { pid: parsed.pid, host: String(parsed.host ?? ''), since: String(parsed.since ?? '') } : null;
  } catch {
    return null;
  }
}

/** True while the owner's process runs (a lock from another host is taken to be live). */
function isAlive(owner: Owner): boolean {
  if (owner.host !== hostname()) return true;
  if (owner.pid === process.pid) return true;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
