// Shared by the unit tests: keys are made once per process (native, fast), certificates per test.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh temp dir, removed by the returned function. */
export function tempDir(prefix = 'weft-ca-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function x509(pem: string): X509Certificate {
  return new X509Certificate(pem);
}

/** Throws unless `fn` throws an error with `code`; returns that error for further checks. */
export function expectCode(fn: () => unknown, code: string): Error & { code: string } {
  try {
    fn();
  } catch (e) {
    if ((e as { code?: string }).code === code) return e as Error & { code: string };
    throw new Error(`expected a ${code} error, got: ${(e as Error).stack}`);
  }
  throw new Error(`expected a ${code} error, but nothing was thrown`);
}
