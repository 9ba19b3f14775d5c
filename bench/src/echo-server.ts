// The upstream of the fetch benchmark: a mesh workload `echo` that answers every request with a small
// fixed body. It runs in its own process so that client and server do not share an event loop.
import { createMesh } from '@weft/sdk';

const body = Buffer.from('hello from echo\n');
const mesh = await createMesh({ service: 'echo', namespace: 'bench', labels: { version: 'v1' } });
const server = await mesh.serve((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
    res.end(body);
  });
}, { port: 0, host: '127.0.0.1' });
const addr = server.address();
if (addr && typeof addr === 'object') process.send?.({ port: addr.port });
process.on('SIGTERM', () => void mesh.close().finally(() => process.exit(0)));
