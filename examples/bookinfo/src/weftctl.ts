// Runs weftctl (the real CLI, as a user would) to apply Bookinfo's networking files, with weftd's admin
// credential passed by --credentials (the file a target names, else WEFT_CREDENTIALS, as weftctl itself).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { resolveAdminTarget, type AdminTarget } from './mesh-admin.js';

export const WEFTCTL_BIN = fileURLToPath(new URL('../../../packages/registry/bin/weftctl.js', import.meta.url));
/** examples/bookinfo/networking: Istio's traffic-task files. */
export const NETWORKING_DIR = fileURLToPath(new URL('../networking/', import.meta.url));

const run = promisify(execFile);

/**
 * `weftctl --server <adminUrl> --credentials <file> apply -f <file>...` with files relative to
 * NETWORKING_DIR (or absolute). Resolves with its output lines; rejects with weftctl's error text if it
 * exits non-zero.
 */
export async function weftctlApply(admin: AdminTarget, files: readonly string[], extraArgs: readonly string[] = []): Promise<string[]> {
  const { adminUrl, credentialsFile } = resolveAdminTarget(admin);
  const target = ['--server', adminUrl, '--credentials', credentialsFile];
  const args = [WEFTCTL_BIN, ...target, 'apply', ...extraArgs, ...files.flatMap((f) => ['-f', join(NETWORKING_DIR, f)])];
  try {
    const { stdout } = await run(process.execPath, args, { timeout: 15_000 });
    return stdout.trim().split('\n').filter(Boolean);
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`weftctl apply ${files.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}
