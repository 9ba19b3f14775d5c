// The 32-bit hash consistent-hash balancing is built on: FNV-1a over the string's UTF-16 code units,
// finished with MurmurHash3's fmix32 so that keys differing in one character land far apart. Envoy uses
// xxHash64; the exact function does not matter across processes (each caller builds its own ring) as
// long as it is fast, stable and spreads well, which the statistics tests check.

/** Unsigned 32-bit hash of `s`; `seed` gives independent functions (Maglev needs two). */
export function hashString(s: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

/** MurmurHash3's finalizer: every input bit affects every output bit. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A random 32-bit value: the hash of a request that carries no key (Envoy picks at random then). */
export function randomHash(): number {
  return (Math.random() * 0x100000000) >>> 0;
}
