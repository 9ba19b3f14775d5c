// Runs small .mjs programs that use the built @weft/sdk in their own processes, as an app would:
// for what only a real process shows (exiting by itself, signals, a rolling restart). A script's mesh
// finds weftd as an app's does, by env: clientEnv (weftd's ca.pem, no identity) or servingEnv (a join
// token); the test process's own WEFT_CONTROL_PLANE, WEFT_TOKEN and WEFT_CA_FILE are not passed on.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { caFileOf, createToken } from './weftd.js';

/** import specifier of the built SDK, for scripts written to a temp dir. */
export const SDK_URL = pathToFileURL(createRequire(import.meta.url).resolve('@weft/sdk')).href;

export interface ScriptProcess {
  proc: ChildProcess;
  output(): string;
  /** Resolves when the output matches `pattern` (or rejects after timeoutMs, or when the process exits first). */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Kills it (if still running) and removes its temp dir. */
  dispose(): Promise<void>;
}

/** Env for a script whose mesh only calls others: weftd's session address and its ca.pem. */
export function clientEnv(controlPlane: string): Record<string, string> {
  return { WEFT_CONTROL_PLANE: controlPlane, WEFT_CA_FILE: caFileOf(controlPlane) };
}

/** Env for a script whose mesh serves: weftd's session address and a join token for (namespace, serviceAccount). */
export async function servingEnv(controlPlane: string, namespace: string, serviceAccount = 'default'): Promise<Record<string, string>> {
  return { WEFT_CONTROL_PLANE: controlPlane, WEFT_TOKEN: await createToken(controlPlane, namespace, serviceAccount) };
}

/** The test process's env without what would tell a script's mesh where weftd is and how to trust it. */
function inheritedEnv(): NodeJS.ProcessEnv {
  const { WEFT_CONTROL_PLANE: _cp, WEFT_TOKEN: _token, WEFT_CA_FILE: _ca, ...rest } = process.env;
  return rest;
}

export function startScript(source: string, env: Record<string, string> = {}): ScriptProcess {
  const dir = mkdtempSync(join(tmpdir(), 'weft-script-'));
  const file = join(dir, 'script.mjs');
  writeFileSync(file, source);
  const proc = spawn(process.execPath, [file], { env: { ...inheritedEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => {
      for (const l of listeners) l();
      resolve({ code, signal });
    }),
  );
  return {
    proc,
    output: () => out,
    exited,
    waitFor(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = pattern.exec(out);
          if (m) return done(() => resolve(m));
          if (proc.exitCode !== null || proc.signalCode !== null) done(() => reject(new Error(`script exited before printing ${pattern}:\n${out}`)));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}:\n${out}`))), timeoutMs);
        const done = (f: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          f();
        };
        listeners.add(check);
        check();
      });
    },
    async dispose() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs a script to its end (SIGKILL after killAfterMs): its output, exit code and how long it ran. */
export async function runScript(source: string, env: Record<string, string>, killAfterMs: number): Promise<{ code: number | null; out: string; ms: number; killed: boolean }> {
  const started = Date.now();
  const script = startScript(source, env);
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    script.proc.kill('SIGKILL');
  }, killAfterMs);
  const { code } = await script.exited;
  clearTimeout(timer);
  const ms = Date.now() - started;
  await script.dispose();
  return { code, out: script.output(), ms, killed };
}
