import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { tieToLauncher } from '../stack/child-lifetime.ts';

const ROOT = join(import.meta.dirname, '..');

/**
 * Runs one part of a benchmark as its own Node process (so its memory and CPU are its own),
 * echoes its output with `label` in front, and returns the figures of its last line (JSON).
 */
export async function childFigures(script: string, label: string): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, [join(ROOT, script)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  tieToLauncher(child);
  let output = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (text: string) => {
    output += text;
    process.stdout.write(text.replace(/^(?=.)/gm, `  ${label} | `));
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const last = output.trim().split('\n').pop() ?? '';
  try {
    return { ...(JSON.parse(last) as Record<string, unknown>), ...(code === 0 ? {} : { exit_code: code }) };
  } catch {
    return { error: `${script} exited with ${code} and no JSON line` };
  }
}
