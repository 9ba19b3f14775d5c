// Helpers for this package's unit tests: real HTTP servers on 127.0.0.1 port 0, and a fetch that
// sends `http://<service>:9080` to such a server (standing in for the mesh's name resolution).
import { createServer, type IncomingHttpHeaders, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FetchLike } from './upstream.js';

export interface Listening {
  url: string;
  server: Server;
  close(): Promise<void>;
}

export async function listen(listener: RequestListener): Promise<Listening> {
  const server = createServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A fetch that rewrites each `origin` key (e.g. `http://ratings:9080`) to the mapped URL; others are refused. */
export function fetchVia(origins: Record<string, string>): FetchLike {
  return (input, init) => {
    const target = new URL(input);
    const mapped = origins[target.origin];
    if (!mapped) return Promise.reject(new TypeError(`no upstream for ${target.origin}`));
    return fetch(`${mapped}${target.pathname}${target.search}`, init);
  };
}

export interface Recorded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

/** A fake upstream answering with `respond` and recording every request it saw. */
export async function fakeUpstream(respond: (rec: Recorded) => { status: number; body: unknown }): Promise<Listening & { seen: Recorded[] }> {
  const seen: Recorded[] = [];
  const listening = await listen((req, res) => {
    const rec = { method: req.method ?? '', url: req.url ?? '', headers: req.headers };
    seen.push(rec);
    const { status, body } = respond(rec);
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(text);
  });
  return { ...listening, seen };
}
