// The demo's per-phase table: one row per reviews version with its count, share and a bar.
import { RATINGS_UNAVAILABLE } from '../reviews.js';
import type { TrafficResult } from './traffic.js';

const BAR_WIDTH = 30;

export function formatTable(result: TrafficResult, versions: readonly string[]): string {
  const rows = [...versions, ...[...result.byVersion.keys()].filter((v) => !versions.includes(v)).sort()];
  const lines = ['    reviews   requests   share'];
  for (const version of rows) {
    const count = result.byVersion.get(version) ?? 0;
    const share = result.total ? count / result.total : 0;
    const bar = '█'.repeat(Math.round(share * BAR_WIDTH));
    lines.push(`    ${version.padEnd(9)} ${String(count).padStart(8)}   ${`${(share * 100).toFixed(1)}%`.padStart(6)}  ${bar}`);
  }
  for (const [status, count] of result.failures) lines.push(`    failed (${status}): ${count}`);
  if (result.ratingsUnavailable) lines.push(`    pages saying "${RATINGS_UNAVAILABLE}": ${result.ratingsUnavailable}`);
  return lines.join('\n');
}
