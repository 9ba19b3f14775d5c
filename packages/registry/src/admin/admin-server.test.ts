// The admin server's timeouts, with short values so the test takes a second: a client that sends half
// a request and stops, or connects and sends nothing, is answered 408 and closed, and weftd keeps
// answering everyone else meanwhile. (tests/src/integration/admin-bad-input.test.ts covers the rest
// against a real weftd, whose defaults are too long to wait for in a test.)
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigService } from '../config/config-service.js';
import { EndpointRegistry } from '../registry/endpoint-registry.js';
import { SessionServer } from '../session/session-server.js';
import { FileStore } from '../store/file-store.js';
import { AdminServer, DEFAULT_ADMIN_TIMEOUTS } from './admin-server.js';

/** Writes `bytes`, then waits (at most `limitMs`, then gives up) for the server to answer and close. */
function holdOpen(port: number, bytes: string, limitMs: number): Promise<{ answer: string }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      if (bytes) socket.write(bytes);
    });
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    socket.on('error', () => {});
    socket.on('close', () => resolve({ answer }));
    setTimeout(() => socket.destroy(), limitMs).unref();
  });
}

describe('AdminServer timeouts', () => {
  let dir: string;
  let store: FileStore;
  let registry: EndpointRegistry;
  let admin: AdminServer;
  let port: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weft-admin-test-'));
    store = await FileStore.open(dir);
    const config = new ConfigService(store, () => {});
    registry = new EndpointRegistry(1000);
    const sessions = new SessionServer({ config, registry, endpointGraceMs: 1000, keepaliveMs: 1000, log: () => {} });
    admin = new AdminServer({ config, registry, sessions, timeouts: { headersMs: 300, requestMs: 600, checkIntervalMs: 50 } });
    port = await admin.listen('127.0.0.1', 0);
  });

  after(async () => {
    await admin.close();
    registry.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('has defaults that give a 4 MiB body time to arrive and still free a stalled socket', () => {
    expect(DEFAULT_ADMIN_TIMEOUTS.headersMs).to.be.at.most(DEFAULT_ADMIN_TIMEOUTS.requestMs);
    expect(DEFAULT_ADMIN_TIMEOUTS.requestMs).to.be.within(10_000, 60_000);
  });

  it('answers 408 and closes a request whose body stops halfway, a request whose headers stop, and a silent connection', async () => {
    const [body, headers, silent, answered] = await Promise.all([
      holdOpen(port, 'POST /v1/apply HTTP/1.1\r\nhost: x\r\ncontent-type: application/yaml\r\ncontent-length: 1000\r\n\r\nkind: Virt', 5000),
      holdOpen(port, 'GET /v1/services HTTP/1.1\r\nhost: x\r\n', 5000),
      holdOpen(port, '', 5000),
      // Meanwhile others are answered at once.
      fetch(`http://127.0.0.1:${port}/v1/services`).then((r) => r.status),
    ]);
    expect(answered).to.equal(200);
    for (const c of [body, headers, silent]) {
      expect(c.answer).to.match(/^HTTP\/1\.1 408 /);
      expect(c.answer).to.contain('"error":"the request was not received in time');
    }
    expect((await fetch(`http://127.0.0.1:${port}/v1/services`)).status).to.equal(200);
  });
});
