// Sending an apply or delete batch. It is one request, and weftd reads at most MAX_ADMIN_BODY_BYTES
// of it. weftctl checks the size before sending, and says which files make it up and what to do:
// weftd's own 413 can only quote the size of the request (JSON, not the YAML the user wrote) and
// cannot name files.
import { MAX_ADMIN_BODY_BYTES } from '@weft/api';
import { isAdminRequestError, type AdminClient } from './admin-client.js';
import { ManifestReadError, type ManifestSource } from './manifest-files.js';

/** `812 bytes`, `12.5 KiB`, `4 MiB`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  const [value, unit] = n < 1024 * 1024 ? [n / 1024, 'KiB'] : [n / (1024 * 1024), 'MiB'];
  return `${Number(value.toFixed(1))} ${unit}`;
}

/**
 * The error for a request of `requestBytes` over `limit`: every file with its size on disk and its
 * share of the request, and how to get under the limit.
 */
export function requestTooLargeError(verb: 'apply' | 'delete', sources: readonly ManifestSource[], shares: readonly number[], requestBytes: number, limit = MAX_ADMIN_BODY_BYTES): ManifestReadError {
  const files = sources.map((s, i) => `  ${s.file}: ${formatBytes(s.bytes)} (${formatBytes(shares[i] ?? 0)} of the request)`);
  const alone = sources.filter((_, i) => (shares[i] ?? 0) > limit).map((s) => s.file);
  const advice =
    alone.length > 0
      ? `split ${alone.join(', ')} into several files (${alone.length > 1 ? 'each is' : 'it is'} over the limit by itself) and ${verb} them in several calls`
      : `${verb} the files in several calls, a few at a time (each call is its own atomic batch)`;
  return new ManifestReadError(
    `the ${verb} is too large to send: as one request it is ${formatBytes(requestBytes)} (${requestBytes} bytes), and weftd reads at most ` +
      `${formatBytes(limit)} (${limit} bytes, MAX_ADMIN_BODY_BYTES); nothing was sent. ` +
      `The files:\n${files.join('\n')}\nTo go under the limit, ${advice}.`,
  );
}

/**
 * POSTs the documents of `sources` (`perSource[i]` from `sources[i]`) as one batch. Refused here when
 * weftd would refuse it for its size; a 413 from a weftd with a lower limit gets the same message.
 */
export async function sendBatch<T>(client: AdminClient, verb: 'apply' | 'delete', path: string, sources: readonly ManifestSource[], perSource: readonly (readonly unknown[])[]): Promise<T> {
  const body = JSON.stringify({ resources: perSource.flat() });
  const bytes = Buffer.byteLength(body);
  const shares = () => perSource.map((docs) => docs.reduce<number>((n, d) => n + Buffer.byteLength(JSON.stringify(d)) + 1, 0));
  if (bytes > MAX_ADMIN_BODY_BYTES) throw requestTooLargeError(verb, sources, shares(), bytes);
  try {
    return await client.requestJson<T>('POST', path, body);
  } catch (e) {
    const limit = isAdminRequestError(e) && e.status === 413 ? /request body .*limit of (\d+) bytes/.exec(e.message) : null;
    if (limit) throw requestTooLargeError(verb, sources, shares(), bytes, Number(limit[1]));
    throw e;
  }
}
