// The upstreams of the slow-backend balancing bench (lb-slow-backend.ts): one mesh workload of service
// `lb-backend` serving ten HTTP servers, ten endpoints, in a process of its own. Each answers at once;
// the parent turns one of them slow (every answer waits `ms`) and fast again by IPC, and asks for the
// answers each served. Reads WEFT_CONTROL_PLANE and WEFT_TOKEN (a join token for bench/default).
import type { Server } from 'node:http';
import { createMesh } from '@weft/sdk';

const COUNT = Number(process.env.LB_BACKENDS ?? 10);
const body = Buffer.from('ok\n');
const mesh = await createMesh({ service: 'lb-backend', namespace: 'bench', shutdownSignals: [] });
const delays: number[] = Array(COUNT).fill(0);
const served: number[] = Array(COUNT).fill(0);
const servers: Server[] = [];
for (let i = 0; i < COUNT; i++) {
  servers.push(await mesh.serve((req, res) => {
    served[i]!++;
    const answer = () => {
      if (res.destroyed) return;
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
      res.end(body);
    };
    req.resume();
    if (delays[i]! > 0) setTimeout(answer, delays[i]);
    else answer();
  }, { port: 0, host: '127.0.0.1' }));
}
process.on('message', (m: { type: 'delay'; index: number; ms: number } | { type: 'served' }) => {
  if (m.type === 'delay') delays[m.index] = m.ms;
  else process.send?.({ type: 'served', served: [...served] });
});
process.send?.({ type: 'ready', count: COUNT });
process.on('SIGTERM', () => void mesh.close().finally(() => process.exit(0)));
