import type { ChildProcess } from 'node:child_process';

/**
 * Services run in their own process groups (so a Ctrl+C reaches only the launcher, which stops
 * them in order); this makes sure none outlives the launcher if it exits some other way.
 */
export function tieToLauncher(child: ChildProcess): void {
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  child.once('exit', () => process.off('exit', kill));
}
