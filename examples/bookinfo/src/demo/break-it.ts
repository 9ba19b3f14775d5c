// What the long-running demo prints for breaking it on purpose: each process's pid, how to kill one,
// and what the product page shows while it is down. The page descriptions hold for the rules of the
// last phase (reviews v2 for jason, v1 for everyone else), which stay in force while the demo runs.

/** What the page shows while the process is down, by workload name (`weftd`, or `<service>-<version>`). */
export const WHILE_DOWN: Readonly<Record<string, string>> = {
  weftd: 'unchanged: workloads keep routing with their last view, and reconnect when it is back',
  'productpage-v1': 'does not load',
  'details-v1': '"Error fetching product details!" in place of the details',
  'ratings-v1': 'stars still show for jason: reviews v2 asks the other instance (after kill -9, a few pages miss them for a second)',
  'reviews-v1': '"Error fetching product reviews!" when signed out (everyone but jason is routed to v1)',
  'reviews-v2': '"Error fetching product reviews!" for jason (routed to v2)',
  'reviews-v3': 'unchanged: no route sends traffic to v3 now',
};

export interface ProcessRow {
  /** The process's name in the demo's reports, e.g. `ratings-v1-2`. */
  name: string;
  /** Key of WHILE_DOWN. */
  workload: string;
  pid: number | undefined;
}

export function formatBreakItHelp(rows: readonly ProcessRow[], example: string): string {
  const nameWidth = Math.max('process'.length, ...rows.map((r) => r.name.length)) + 2;
  const lines = [
    'Break it: in another terminal, kill one of these processes and reload the page. The demo reports the',
    'death here and restarts the process after a short delay. `kill PID` stops it cleanly, `kill -9 PID` crashes it.',
    `    ${'process'.padEnd(nameWidth)}${'pid'.padEnd(9)}the page while it is down`,
    ...rows.map((r) => `    ${r.name.padEnd(nameWidth)}${String(r.pid ?? '?').padEnd(9)}${WHILE_DOWN[r.workload] ?? ''}`),
  ];
  const pick = rows.find((r) => r.name === example) ?? rows[0];
  if (pick) lines.push(`  For example:  kill -9 ${pick.pid}   (${pick.name})`);
  return lines.join('\n');
}
