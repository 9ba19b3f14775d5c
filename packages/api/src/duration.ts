// Durations as Istio writes them (protobuf Duration in YAML): `500ms`, `1s`, `1.5s`, `2m`, `1h`.
// Shared by weftd's flags and by config fields (timeouts, intervals) so both read the same syntax.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

/**
 * Parses a duration such as `500ms`, `1s`, `1.5s`, `2m` or `1h` into whole milliseconds (rounded).
 * Throws a RangeError naming the value when it is not a non-negative number followed by a unit.
 */
export function parseDuration(text: string): number {
  const m = DURATION.exec(text.trim());
  if (!m) {
    throw new RangeError(`invalid duration ${JSON.stringify(text)}: expected a number and a unit (ms, s, m, h), e.g. 500ms, 1s, 1.5s, 2m`);
  }
  return Math.round(Number(m[1]) * UNIT_MS[m[2]!]!);
}

/** Formats milliseconds in the shortest exact form parseDuration reads back: 1500 → `1.5s`. */
export function formatDuration(ms: number): string {
  if (ms !== 0 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms !== 0 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms !== 0 && ms % 1000 === 0) return `${ms / 1000}s`;
  if (ms >= 1000 && ms % 100 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
