// `npm run demo -- --requests N` end to end: weftd and seven workload processes, four phases, exit 0,
// and no process left behind.
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
    expect(out).to.match(/Phase 2:[\s\S]*?v1\s+40\s+100\.0%/);
    expect(out).to.match(/Phase 4:[\s\S]*?v2\s+40\s+100\.0%/);
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
