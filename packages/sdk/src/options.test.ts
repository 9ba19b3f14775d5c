import { expect } from 'chai';
import { isWeftErrorCode } from './errors.js';
import { resolveOptions } from './options.js';

/** A join token of the right shape (resolveOptions only parses it). */
const TOKEN = `weft1.0123456789abcdef.${'A'.repeat(42)}g.${'f'.repeat(64)}`;
/** What every case below gives unless it is about trust: weftd's roots by env, as a client-only workload. */
const CA = { WEFT_CA_FILE: '/data/ca.pem' };

describe('resolveOptions', () => {
  it('fills in the defaults', () => {
    const o = resolveOptions({ service: 'reviews', labels: { version: 'v2' } }, { WEFT_CONTROL_PLANE: '127.0.0.1:15010', ...CA });
    expect(o).to.deep.include({
      namespace: 'default',
      labels: { app: 'reviews', version: 'v2' },
      serviceAccount: 'default',
      workloadName: 'reviews-v2',
      controlPlane: '127.0.0.1:15010',
      initialTimeoutMs: 10000,
      discoveryTimeoutMs: 5000,
      fetchErrors: 'reject',
      outboundTrafficPolicy: { mode: 'ALLOW_ANY' },
    });
    const chosen = resolveOptions({ service: 'ok', controlPlane: 'a:1', fetchErrors: 'status', outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } }, CA);
    expect(chosen).to.deep.include({ fetchErrors: 'status', outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } });
    expect(resolveOptions({ service: 'ratings', controlPlane: 'weftd:1' }, CA).workloadName).to.equal('ratings');
  });

  it("defaults the control plane to WEFT_CONTROL_PLANE, else weftd's default session address", () => {
    expect(resolveOptions({ service: 'ok' }, CA).controlPlane).to.equal('127.0.0.1:15010');
    expect(resolveOptions({ service: 'ok' }, { WEFT_CONTROL_PLANE: 'weftd.local:7000', ...CA }).controlPlane).to.equal('weftd.local:7000');
    expect(resolveOptions({ service: 'ok', controlPlane: 'a:1' }, { WEFT_CONTROL_PLANE: 'weftd.local:7000', ...CA }).controlPlane).to.equal('a:1');
  });

  it('rejects bad options with INVALID_ARGUMENT naming the option', () => {
    const cases: [unknown, RegExp][] = [
      [{ service: 'Bad_Name', controlPlane: 'a:1' }, /options\.service/],
      [{ service: 'ok', controlPlane: '' }, /options\.controlPlane/],
      [{ service: 'ok', controlPlane: 'no-port' }, /host:port/],
      [{ service: 'ok', controlPlane: 'a:1', namespace: 'Not OK' }, /options\.namespace/],
      [{ service: 'ok', controlPlane: 'a:1', initialTimeoutMs: -1 }, /options\.initialTimeoutMs/],
      [{ service: 'ok', controlPlane: 'a:1', labels: { version: 2 } }, /options\.labels\.version/],
      [{ service: 'ok', controlPlane: 'a:1', fetchErrors: 'throw' }, /options\.fetchErrors must be 'reject'/],
      [{ service: 'ok', controlPlane: 'a:1', outboundTrafficPolicy: 'REGISTRY_ONLY' }, /options\.outboundTrafficPolicy\.mode/],
      [{ service: 'ok', controlPlane: 'a:1', outboundTrafficPolicy: { mode: 'registry_only' } }, /options\.outboundTrafficPolicy\.mode/],
    ];
    for (const [opts, message] of cases) {
      expect(() => resolveOptions(opts as never, CA), JSON.stringify(opts))
        .to.throw(message)
        .that.satisfies((e: unknown) => isWeftErrorCode(e, 'INVALID_ARGUMENT'));
    }
  });

  it('needs a way to trust weftd: a join token, or a caFile (option, else WEFT_CA_FILE), and says so without either', () => {
    const none = () => resolveOptions({ service: 'ok', controlPlane: 'a:1' }, { WEFT_CA_FILE: '' });
    expect(none)
      .to.throw(/^createMesh needs a way to trust weftd, whose session port is TLS: a join token \(options\.token or WEFT_TOKEN, from 'weftctl token create'\)/)
      .that.satisfies((e: unknown) => isWeftErrorCode(e, 'INVALID_ARGUMENT') && /options\.caFile or WEFT_CA_FILE: weftd's <data-dir>\/ca\.pem/.test((e as Error).message));
    const withToken = resolveOptions({ service: 'ok', controlPlane: 'a:1', token: TOKEN }, {});
    expect(withToken.caFile).to.equal(undefined);
    expect(withToken.token?.parts.caHash).to.equal('f'.repeat(64));
    expect(resolveOptions({ service: 'ok', controlPlane: 'a:1' }, { WEFT_TOKEN: TOKEN }).token?.text).to.equal(TOKEN);
    expect(resolveOptions({ service: 'ok', controlPlane: 'a:1' }, { WEFT_CA_FILE: '/env/ca.pem' }).caFile).to.equal('/env/ca.pem');
    expect(resolveOptions({ service: 'ok', controlPlane: 'a:1', caFile: '/opt/ca.pem' }, { WEFT_CA_FILE: '/env/ca.pem' }).caFile).to.equal('/opt/ca.pem');
    expect(resolveOptions({ service: 'ok', controlPlane: 'a:1', token: TOKEN }, { WEFT_CA_FILE: '/env/ca.pem' }).caFile).to.equal('/env/ca.pem');
    for (const bad of ['', 7]) {
      expect(() => resolveOptions({ service: 'ok', controlPlane: 'a:1', caFile: bad as string }, {}))
        .to.throw('options.caFile must be the path of a PEM file')
        .that.satisfies((e: unknown) => isWeftErrorCode(e, 'INVALID_ARGUMENT'));
    }
    expect(() => resolveOptions({ service: 'ok', controlPlane: 'a:1', token: 'weft1.nope' }, CA)).to.throw(/^options\.token: /);
  });
});
