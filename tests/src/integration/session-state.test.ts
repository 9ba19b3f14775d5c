// weftd keeps no state for a host once nobody holds it: a client that subscribed to ever new names
// in a loop once drove a 256 MB weftd out of memory. weftd runs in this process (startDaemon) so the
// test can look at the sizes of its maps; bench/src/subscribe-heap.ts measures the heap itself.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, type Daemon } from '@weft/registry';
import { rememberWeftd } from '../support/weftd.js';
import { DEFAULT_IDENTITY, RawSession, waitUntil } from './session-fixtures.js';

describe('session server state', function () {
  this.timeout(20_000);
  let daemon: Daemon;
  let dataDir: string;
  const sessions: RawSession[] = [];

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'weftd-state-'));
    daemon = await startDaemon({ dataDir, host: '127.0.0.1', grpcPort: 0, adminPort: 0, endpointGraceMs: 200, keepaliveMs: 1000, log: () => undefined });
    // So that the session fixtures find its ca.pem (TLS roots) and its CA (client certificates).
    rememberWeftd({ grpcAddress: `127.0.0.1:${daemon.grpcPort}`, adminUrl: `https://127.0.0.1:${daemon.adminPort}`, dataDir });
  });
  afterEach(async () => {
    for (const s of sessions.splice(0)) s.close();
    await daemon.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('holds nothing per host or session after every subscriber and workload has gone', async () => {
    const address = `127.0.0.1:${daemon.grpcPort}`;
    const server = new RawSession(address, { identity: DEFAULT_IDENTITY }); // registers: proves bookinfo/sa
    sessions.push(server);
    server.hello('served-1', { service: 'ratings' });
    server.register([{ port: 5000 }]);
    for (let round = 0; round < 3; round++) {
      const callers = Array.from({ length: 2 }, (_, k) => {
        const s = new RawSession(address);
        sessions.push(s);
        s.hello(`caller-${round}-${k}`, { service: 'productpage' });
        for (let b = 0; b < 5; b++) s.send({ subscribe: { hosts: ['ratings', ...Array.from({ length: 1999 }, (_, i) => `fresh-${round}-${k}-${b}-${i}`)] } });
        return s;
      });
      await waitUntil(() => callers.every((s) => s.received.filter((m) => m.kind === 'endpoints').length === 5), 10_000, 'every subscription answered');
      expect(daemon.sessions.sizes().subscribedHosts).to.equal(2 * 5 * 1999 + 1);
      for (const s of callers) s.close();
      await waitUntil(() => daemon.sessions.sizes().sessions === 1 && daemon.sessions.sizes().registry.workloads === 1, 5000, 'the callers to be gone (after their grace)');
      // Only the host a workload serves is still known, and nothing is subscribed.
      expect(daemon.sessions.sizes()).to.deep.include({ subscribedHosts: 0 });
      expect(daemon.sessions.sizes().registry).to.deep.equal({ workloads: 1, hosts: 1, cachedHosts: 1 });
    }
    server.close();
    await waitUntil(() => daemon.sessions.sizes().registry.workloads === 0, 3000, 'the workload to leave after its grace');
    expect(daemon.sessions.sizes()).to.deep.equal({ sessions: 0, subscribedHosts: 0, connections: daemon.sessions.sizes().connections, registry: { workloads: 0, hosts: 0, cachedHosts: 0 } });
  });
});
