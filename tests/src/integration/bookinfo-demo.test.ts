// `npm run demo -- --requests N` end to end: weftd and seven workload processes, each with its own
// identity, four routing phases and the mTLS STRICT one, exit 0, and no process left behind.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const DEMO_BIN = fileURLToPath(new URL('../../../examples/bookinfo/dist/demo.js', import.meta.url));

describe('Bookinfo demo', function () {
  this.timeout(90_000);

  it('runs every phase with --requests and exits 0 with the expected tables', async () => {
    const proc = spawn(process.execPath, [DEMO_BIN, '--requests', '40', '--any-ports'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => proc.kill('SIGKILL'), 80_000);
    const code = await new Promise<number | null>((resolve) => proc.once('close', (c) => resolve(c)));
    clearTimeout(timer);
    expect(code, out).to.equal(0);
    expect(out).to.contain('all registered after');
    for (const service of ['productpage', 'details', 'ratings', 'reviews']) {
      expect(out).to.match(new RegExp(`^ +${service}-v1 +spiffe://cluster\\.local/ns/default/sa/bookinfo-${service}$`, 'm'));
    }
    expect(out).to.match(/Phase 2:[\s\S]*?v1\s+40\s+100\.0%/);
    expect(out).to.match(/Phase 4:[\s\S]*?v2\s+40\s+100\.0%/);
    // STRICT: the page still whole, callers named by their certificates, a plaintext call refused.
    const strict = out.slice(out.indexOf('Phase 5: mTLS STRICT'));
    expect(strict).to.contain('peerauthentication.security.istio.io/default created');
    expect(strict).to.match(/v2\s+40\s+100\.0%/);
    expect(strict).to.contain('the page has details, reviews and stars');
    expect(strict).to.contain('details-v1 by cluster.local/ns/default/sa/bookinfo-productpage, ratings-v1 by cluster.local/ns/default/sa/bookinfo-reviews');
    expect(strict).to.match(/a plaintext GET http:\/\/127\.0\.0\.1:\d+\/details\/0 \(no certificate\) is refused/);
    expect(out).to.not.contain('!!');
    expect(out).to.contain('Done: every phase behaved as expected.');
  });

  it('rejects a bad --requests value with exit code 1', async () => {
    const proc = spawn(process.execPath, [DEMO_BIN, '--requests', 'many'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => proc.once('close', (c) => resolve(c)));
    expect(code).to.equal(1);
    expect(err).to.contain('--requests must be a positive integer, got "many"');
  });
});
