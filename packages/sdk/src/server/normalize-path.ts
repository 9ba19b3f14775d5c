// The request path as Istio's sidecar sees it before authorization: Envoy's default `normalize_path`
// (RFC 3986 normalization: `\` read as `/`, percent-encoded unreserved characters decoded, dot
// segments removed; `//` is kept, as Istio's default BASE normalization keeps it). A DENY on
// `/admin*` must not be passed by `/public/../admin` or `/%61dmin`, and the handler must see the
// same path the policy judged, so the server hands the normalized path on, as Envoy forwards it.

/** Characters RFC 3986 calls unreserved: decoding them never changes what a path means. */
function isUnreserved(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39) || code === 0x2d || code === 0x2e || code === 0x5f || code === 0x7e;
}

function hexValue(c: string): number {
  return parseInt(c, 16);
}

/** Whether `path` may change under normalization; the common path is decided without allocating. */
export function needsNormalization(path: string): boolean {
  return path.includes('%') || path.includes('\\') || path.includes('/.') || (path.length > 0 && path[0] !== '/');
}

export function normalizePath(path: string): string {
  if (!needsNormalization(path)) return path;
  let decoded = '';
  for (let i = 0; i < path.length; i++) {
    const c = path[i]!;
    if (c === '\\') decoded += '/';
    else if (c === '%' && i + 2 < path.length && /^[0-9a-fA-F]{2}$/.test(path.slice(i + 1, i + 3))) {
      const code = hexValue(path.slice(i + 1, i + 3));
      decoded += isUnreserved(code) ? String.fromCharCode(code) : `%${path.slice(i + 1, i + 3).toUpperCase()}`;
      i += 2;
    } else decoded += c;
  }
  return removeDotSegments(decoded.startsWith('/') ? decoded : `/${decoded}`);
}

/** RFC 3986 §5.2.4 over a path that starts with `/`. */
function removeDotSegments(path: string): string {
  const segments = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i]!;
    const last = i === segments.length - 1;
    if (s === '.') {
      if (last) out.push('');
    } else if (s === '..') {
      if (out.length > 0) out.pop();
      if (last) out.push('');
    } else out.push(s);
  }
  return `/${out.join('/')}`;
}
