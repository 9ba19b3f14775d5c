// The weftd of the memory benchmark: startDaemon in a process of its own, started with --expose-gc,
// so that the parent can ask for its heap after a full collection ('measure'), along with the sizes
// of its per-host and per-session maps.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDaemon } from '@weft/registry';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('heap-daemon needs node --expose-gc');
const dataDir = mkdtempSync(join(tmpdir(), 'weft-bench-heap-'));
const daemon = await startDaemon({ dataDir, host: '127.0.0.1', grpcPort: 0, adminPort: 0, endpointGraceMs: 500, keepaliveMs: 1000, log: () => undefined });
process.send!({ type: 'ready', grpc: `127.0.0.1:${daemon.grpcPort}`, caFile: join(dataDir, 'ca.pem') });

process.on('message', (m: { type: string }) => {
  if (m.type === 'measure') void measure();
  if (m.type === 'stop') void daemon.close().finally(() => {
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  });
});

async function measure(): Promise<void> {
  // Several passes with turns of the event loop between them, so that what was freed by closing
  // streams (timers, sockets, grpc-js call objects) is collected too.
  for (let i = 0; i < 4; i++) {
    gc!();
    await sleep(50);
  }
  const sessions = daemon.sessions as { sizes?: () => unknown };
  process.send!({ type: 'heap', heapUsed: process.memoryUsage().heapUsed, sizes: sessions.sizes?.() });
}
