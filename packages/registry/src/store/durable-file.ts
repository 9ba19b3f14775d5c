// Durable file updates for the small files of the store (snapshot.json, store.json): a crash leaves
// either the old or the new content, never a mix.
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** A rename or a new file is durable only once its directory is fsync'd. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes `name.tmp`, fsyncs it, renames it over `name` and fsyncs the directory. */
export async function replaceFileDurably(dir: string, name: string, content: string): Promise<void> {
  const finalPath = join(dir, name);
  const tmpPath = `${finalPath}.tmp`;
  try {
    const tmp = await open(tmpPath, 'w');
    try {
      await tmp.writeFile(content);
      await tmp.sync();
    } finally {
      await tmp.close();
    }
    await rename(tmpPath, finalPath);
  } catch (e) {
    // A half-written temporary file only takes space, and space may be what ran out.
    await unlink(tmpPath).catch(() => undefined);
    throw e;
  }
  await fsyncDir(dir);
}

/** The text of a small store file, or undefined when it does not exist; other read errors name the file. */
export async function readOptionalText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read ${path}: ${(e as Error).message}`);
  }
}
