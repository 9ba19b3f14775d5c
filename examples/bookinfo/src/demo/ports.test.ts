import { createServer, type Server } from 'node:net';
import { expect } from 'chai';
import { controlPlaneExports, isPortFree, portOrAny } from './ports.js';

describe('demo ports', () => {
  it('says an export is not needed only for the default addresses, and always names the credential', () => {
    const cred = '/tmp/weft-demo-x/admin.cred';
    expect(controlPlaneExports('127.0.0.1:15010', 'https://127.0.0.1:15000', cred)).to.deep.equal([
      'export WEFT_SERVER=https://127.0.0.1:15000   # the default: no export needed',
      'export WEFT_CREDENTIALS=/tmp/weft-demo-x/admin.cred',
      'export WEFT_CONTROL_PLANE=127.0.0.1:15010   # the default: no export needed',
    ]);
    expect(controlPlaneExports('127.0.0.1:40001', 'https://127.0.0.1:40002', cred)).to.deep.equal([
      'export WEFT_SERVER=https://127.0.0.1:40002',
      'export WEFT_CREDENTIALS=/tmp/weft-demo-x/admin.cred',
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
