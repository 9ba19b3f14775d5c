import { expect } from 'chai';
import { isWeftErrorCode } from './errors.js';
import { resolveOptions } from './options.js';

describe('resolveOptions', () => {
  it('fills in the defaults', () => {
    const o = resolveOptions({ service: 'reviews', labels: { version: 'v2' } }, { WEFT_CONTROL_PLANE: '127.0.0.1:15010' });
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
    const chosen = resolveOptions({ service: 'ok', controlPlane: 'a:1', fetchErrors: 'status', outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } }, {});
    expect(chosen).to.deep.include({ fetchErrors: 'status', outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } });
    expect(resolveOptions({ service: 'ratings', controlPlane: 'weftd:1' }, {}).workloadName).to.equal('ratings');
  });

  it("defaults the control plane to WEFT_CONTROL_PLANE, else weftd's default session address", () => {
    expect(resolveOptions({ service: 'ok' }, {}).controlPlane).to.equal('127.0.0.1:15010');
    expect(resolveOptions({ service: 'ok' }, { WEFT_CONTROL_PLANE: 'weftd.local:7000' }).controlPlane).to.equal('weftd.local:7000');
    expect(resolveOptions({ service: 'ok', controlPlane: 'a:1' }, { WEFT_CONTROL_PLANE: 'weftd.local:7000' }).controlPlane).to.equal('a:1');
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
      expect(() => resolveOptions(opts as never, {}), JSON.stringify(opts))
        .to.throw(message)
        .that.satisfies((e: unknown) => isWeftErrorCode(e, 'INVALID_ARGUMENT'));
    }
  });
});
