import { expect } from 'chai';
import { parseDemoArgs } from './options.js';

describe('demo options', () => {
  it('keeps running by default, on the well-known ports', () => {
    expect(parseDemoArgs([])).to.deep.equal({ requests: 100, once: false, ports: { weftd: 15010, weftdAdmin: 15000, productpage: 9080 } });
  });

  it('--requests N runs once; --any-ports asks for any free port, and an explicit port still wins', () => {
    expect(parseDemoArgs(['--requests', '40', '--any-ports', '--productpage-port', '9090'])).to.deep.equal({
      requests: 40,
      once: true,
      ports: { weftd: 0, weftdAdmin: 0, productpage: 9090 },
    });
  });

  it('names the flag and the value that are wrong', () => {
    expect(() => parseDemoArgs(['--requests', 'many'])).to.throw('--requests must be a positive integer, got "many"');
    expect(() => parseDemoArgs(['--weftd-port', '70000'])).to.throw('--weftd-port must be an integer 0..65535, got "70000"');
    expect(() => parseDemoArgs(['--no-such-flag'])).to.throw(/no-such-flag/);
  });

  it('--help asks for the usage', () => {
    expect(parseDemoArgs(['--help'])).to.equal(undefined);
  });
});
