// IP addresses and CIDR blocks as AuthorizationPolicy's ipBlocks and source.ip conditions name them:
// `10.0.0.1`, `10.0.0.0/16`, `2001:db8::/32`. Parsed once into 16 bytes (IPv4 as its IPv4-mapped
// IPv6 form, as Node reports an IPv4 caller on a dual-stack socket), so that one comparison of
// prefix bits serves both families.
import { quote } from './errors.js';

export interface IpBlock {
  /** The address as 16 bytes (IPv4 mapped into ::ffff:0:0/96). */
  readonly bytes: Uint8Array;
  /** How many leading bits must match, counted on the 16 bytes. */
  readonly prefixBits: number;
}

const V4_MAPPED_PREFIX_BITS = 96;

function parseIpv4(s: string, out: Uint8Array, at: number): boolean {
  const parts = s.split('.');
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return false;
    const n = Number(p);
    if (n > 255) return false;
    out[at + i] = n;
  }
  return true;
}

/** 16 bytes for an IPv4 or IPv6 address text, or undefined when it is not one. Zone ids (`%eth0`) are refused. */
export function parseIp(s: string): Uint8Array | undefined {
  const out = new Uint8Array(16);
  if (!s.includes(':')) {
    out[10] = 0xff;
    out[11] = 0xff;
    return parseIpv4(s, out, 12) ? out : undefined;
  }
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
  let head = s;
  let tailV4: string | undefined;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    tailV4 = s.slice(lastColon + 1);
    head = s.slice(0, lastColon + 1) + '0:0';
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const words = (h: string) => (h === '' ? [] : h.split(':'));
  const left = words(halves[0]!);
  const right = halves.length === 2 ? words(halves[1]!) : [];
  const total = left.length + right.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return undefined;
  const all = [...left, ...new Array<string>(8 - total).fill('0'), ...right];
  for (let i = 0; i < 8; i++) {
    const w = all[i]!;
    if (!/^[0-9a-fA-F]{1,4}$/.test(w)) return undefined;
    const n = parseInt(w, 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 0xff;
  }
  if (tailV4 !== undefined && !parseIpv4(tailV4, out, 12)) return undefined;
  return out;
}

/** An address (`10.0.0.1`, a /32 or /128) or a CIDR block, or the reason it is neither. */
export function parseIpBlock(s: string): IpBlock | string {
  const slash = s.indexOf('/');
  const addr = slash < 0 ? s : s.slice(0, slash);
  const bytes = parseIp(addr);
  if (!bytes) return `${quote(s)} is not an IP address or CIDR block (such as 10.0.0.0/16 or 2001:db8::/32)`;
  const v4 = !addr.includes(':');
  const max = v4 ? 32 : 128;
  if (slash < 0) return { bytes, prefixBits: 128 };
  const prefix = s.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefix) || Number(prefix) > max) return `${quote(s)}: the prefix length must be 0..${max}`;
  const prefixBits = Number(prefix) + (v4 ? V4_MAPPED_PREFIX_BITS : 0);
  return { bytes, prefixBits };
}

/** Whether the address (16 bytes, from parseIp) is inside the block. */
export function ipInBlock(ip: Uint8Array, block: IpBlock): boolean {
  const full = block.prefixBits >> 3;
  for (let i = 0; i < full; i++) if (ip[i] !== block.bytes[i]) return false;
  const rest = block.prefixBits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (ip[full]! & mask) === (block.bytes[full]! & mask);
}
