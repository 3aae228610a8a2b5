/** CPU time of a process on this machine, for the benches that report the server's cost per event. */
import { readFile } from 'node:fs/promises';

/** The process's CPU time so far (user + system), in ms, from /proc (Linux). */
export async function cpuMs(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (100/s)
}
