// productpage's login session: a signed cookie holding the user name, like Flask's session cookie.
// The signature stops a browser from forging `jason`; it is not meant to hide the name.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'session';

export interface SessionCodec {
  /** Set-Cookie value that logs `user` in. */
  loginCookie(user: string): string;
  /** Set-Cookie value that logs out. */
  logoutCookie(): string;
  /** The user of a valid session cookie in a Cookie header, else undefined. */
  userFrom(cookieHeader: string | undefined): string | undefined;
}

/** Cookie header → name/value pairs; malformed pairs are skipped, the first occurrence of a name wins. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (!cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

/** `secret` signs the cookies; instances that should share sessions need the same one. */
export function createSessionCodec(secret: string | Buffer = randomBytes(32)): SessionCodec {
  const sign = (payload: string) => createHmac('sha256', secret).update(payload).digest('base64url');
  return {
    loginCookie(user) {
      const payload = Buffer.from(JSON.stringify({ user }), 'utf8').toString('base64url');
      return `${SESSION_COOKIE}=${payload}.${sign(payload)}; Path=/; HttpOnly; SameSite=Lax`;
    },
    logoutCookie() {
      return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`;
    },
    userFrom(cookieHeader) {
      const value = parseCookies(cookieHeader).get(SESSION_COOKIE);
      if (!value) return undefined;
      const dot = value.lastIndexOf('.');
      if (dot <= 0) return undefined;
      const payload = value.slice(0, dot);
      const given = Buffer.from(value.slice(dot + 1));
      const expected = Buffer.from(sign(payload));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
      try {
        const { user } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { user?: unknown };
        return typeof user === 'string' && user !== '' ? user : undefined;
      } catch {
        return undefined;
      }
    },
  };
}
