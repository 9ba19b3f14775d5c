// weftd's command line: help, flag errors (exit 2 naming the flag), and a prompt clean SIGTERM.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { startWeftd, WEFTD_BIN } from '../support/weftd.js';

function weftd(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [WEFTD_BIN, ...args], { timeout: 10000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('registry: weftd command line', () => {
  it('prints every flag with its default for --help', async () => {
    const res = await weftd(['--help']);
    expect(res.code).to.equal(0);
    for (const flag of ['--data-dir DIR', '--port N', '--admin-port N', '--host ADDR', '--endpoint-grace DURATION', '--keepalive DURATION']) {
      expect(res.stdout).to.contain(flag);
    }
    expect(res.stdout).to.contain('(default 15010)').and.contain('(default 15000)').and.contain('(default .weft-data)');
  });

  it('exits 2 naming the flag for bad flags and values', async () => {
    const cases: [string[], string][] = [
      [['--port', 'abc'], '--port "abc"'],
      [['--admin-port', '99999'], '--admin-port "99999"'],
      [['--endpoint-grace', '3'], '--endpoint-grace: invalid duration "3"'],
      [['--keepalive'], '--keepalive needs a value'],
      [['--verbose'], 'unknown flag --verbose'],
    ];
    for (const [args, message] of cases) {
      const res = await weftd(args);
      expect(res.code, args.join(' ')).to.equal(2);
      expect(res.stderr).to.contain(message).and.contain('weftd --help');
    }
  });

  it('stops within 2 s on SIGTERM with exit code 0', async () => {
    const d = await startWeftd();
    const started = Date.now();
    const exit = new Promise<number | null>((r) => d.proc.once('exit', (code) => r(code)));
    await d.stop();
    expect(await exit).to.equal(0);
    expect(Date.now() - started).to.be.lessThan(2000);
  });
});
