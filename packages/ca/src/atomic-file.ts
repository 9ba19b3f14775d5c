// Files of the CA directory: written so a crash leaves the old or the new content, never a mix (temp
// file, fsync, rename, fsync of the directory), and read back with their permissions checked, because
// a CA key that others can read is a CA anyone can impersonate.
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CaError } from './errors.js';

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Replaces `path` with `content`, created with `mode` (the mode is set before any byte is written). */
export async function writeFileAtomic(path: string, content: string, mode: number): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx', mode);
    try {
      await fh.chmod(mode); // the umask may have taken bits away; never adds any to 0600
      await fh.writeFile(content);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw new CaError('CA_FILE', `${path}: cannot write it (${(e as Error).message})`, { cause: e });
  }
  await fsyncDir(dirname(path));
}

/** Reads a file that must be readable by its owner only (a private key): refuses mode bits for group or others. */
export async function readPrivateFile(path: string): Promise<string> {
  const st = await statOrFail(path);
  if ((st.mode & 0o077) !== 0) {
    throw new CaError('CA_FILE', `${path}: mode ${(st.mode & 0o777).toString(8).padStart(4, '0')} lets others read the CA key; it must be 0600 (run: chmod 600 ${path})`);
  }
  return readText(path);
}

export async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new CaError('CA_FILE', `${path}: cannot read it (${(e as Error).message})`, { cause: e });
  }
}

async function statOrFail(path: string) {
  try {
    return await stat(path);
  } catch (e) {
    throw new CaError('CA_FILE', `${path}: cannot read it (${(e as Error).message})`, { cause: e });
  }
}

