import { createServer, type Server } from 'node:net';
import { expect } from 'chai';
import { controlPlaneExports, isPortFree, portOrAny } from './ports.js';

describe('demo ports', () => {
  it('says an export is not needed only for the default addresses', () => {
    expect(controlPlaneExports('127.0.0.1:15010', 'http://127.0.0.1:15000')).to.deep.equal([
      'export WEFT_SERVER=http://127.0.0.1:15000   # the default: no export needed',
      'export WEFT_CONTROL_PLANE=127.0.0.1:15010   # the default: no export needed',
    ]);
    expect(controlPlaneExports('127.0.0.1:40001', 'http://127.0.0.1:15000')).to.deep.equal([
      'export WEFT_SERVER=http://127.0.0.1:15000   # the default: no export needed',
      'export WEFT_CONTROL_PLANE=127.0.0.1:40001',
    ]);
  });

  it('keeps a free port, and falls back to any port (0) when it is taken', async () => {
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      expect(await isPortFree(port)).to.equal(false);
      expect(await portOrAny(port)).to.deep.equal({ port: 0, taken: true });
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
    expect(await portOrAny(port)).to.deep.equal({ port, taken: false });
    expect(await portOrAny(0)).to.deep.equal({ port: 0, taken: false });
  });
});
