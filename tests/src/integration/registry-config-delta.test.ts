// Delta config push over a real weftd, seen by a raw grpc-js client: the first ConfigUpdate of a
// stream is the full snapshot, later ones carry only what changed since the version the session was
// last sent; a NACKed delta is answered once with the full snapshot; a client that does not say it
// accepts deltas gets full snapshots only.
import { expect } from 'chai';
import type { ConfigUpdateMsg } from '@weft/api';
import { adminFetch, startWeftd, type WeftdHandle } from '../support/weftd.js';
import { RawSession } from './session-fixtures.js';

/** A raw session (TLS, see session-fixtures.ts) that said Hello and reads its config updates. */
class ConfigWatcher {
  private readonly session: RawSession;

  constructor(address: string, instanceId: string, acceptsConfigDeltas: boolean) {
    this.session = new RawSession(address);
    this.session.hello(instanceId, { service: 'web', acceptsConfigDeltas });
  }

  get configs(): ConfigUpdateMsg[] {
    return this.session.received.flatMap((m) => (m.kind === 'config' ? [m.config] : []));
  }

  /** Waits (bounded) for the config update number `index` (0 = the first) of this stream. */
  async config(index: number, timeoutMs = 5000): Promise<ConfigUpdateMsg> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.configs[index];
      if (found) return found;
      if (this.session.error) throw new Error(`session failed: ${this.session.error.message}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no config update #${index} within ${timeoutMs} ms; got ${this.configs.length}`);
  }

  nack(update: ConfigUpdateMsg, error: string): void {
    this.session.send({ ack: { type: 'config', version: update.version, nonce: update.nonce, error } });
  }

  close(): void {
    this.session.close();
  }
}

const rule = (lb: string) => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: bookinfo}
spec: {host: reviews, trafficPolicy: {loadBalancer: {simple: ${lb}}}}
`;
const route = (destination: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: bookinfo}
spec:
  hosts: [reviews]
  http: [{route: [{destination: {host: ${destination}}}]}]
`;
const names = (c: ConfigUpdateMsg) => c.resources.map((r) => `${r.kind}/${r.namespace}/${r.name}`).sort();

describe('registry: delta config push', () => {
  let weftd: WeftdHandle;
  const sessions: ConfigWatcher[] = [];
  const open = (instanceId: string, acceptsConfigDeltas = true) => {
    const s = new ConfigWatcher(weftd.grpcAddress, instanceId, acceptsConfigDeltas);
    sessions.push(s);
    return s;
  };
  const admin = async (verb: 'apply' | 'delete', yaml: string): Promise<number> => {
    const res = await adminFetch(`${weftd.adminUrl}/v1/${verb}`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: yaml });
    expect(res.status, await res.clone().text()).to.equal(200);
    return ((await res.json()) as { revision: number }).revision;
  };

  beforeEach(async () => (weftd = await startWeftd()));
  afterEach(async () => {
    for (const s of sessions.splice(0)) s.close();
    await weftd.stop();
  });

  it('sends the full snapshot first, then deltas with only what changed, and the full snapshot again on reconnect', async () => {
    const first = await admin('apply', `${rule('ROUND_ROBIN')}---\n${route('reviews')}`);
    const a = open('delta-a');
    const b = open('delta-b');
    const initial = await a.config(0);
    expect(initial).to.include({ version: String(first), delta: false, baseVersion: '' });
    expect(names(initial)).to.deep.equal(['DestinationRule/bookinfo/reviews', 'VirtualService/bookinfo/reviews']);
    await b.config(0);

    const second = await admin('apply', `${rule('ROUND_ROBIN')}---\n${route('ratings')}`); // the rule is unchanged
    const applied = await a.config(1);
    expect(applied).to.include({ version: String(second), delta: true, baseVersion: String(first) });
    expect(names(applied)).to.deep.equal(['VirtualService/bookinfo/reviews']);
    expect(JSON.parse(applied.resources[0]!.specJson).http[0].route[0].destination.host).to.equal('ratings');
    expect(applied.removed).to.deep.equal([]);
    // Serialized once for every session on that base: the same nonce (it is part of the bytes).
    expect((await b.config(1)).nonce).to.equal(applied.nonce);

    const third = await admin('delete', rule('ROUND_ROBIN'));
    const deleted = await a.config(2);
    expect(deleted).to.include({ version: String(third), delta: true, baseVersion: String(second) });
    expect(deleted.resources).to.deep.equal([]);
    expect(deleted.removed).to.deep.equal(['DestinationRule/bookinfo/reviews']);

    a.close();
    const again = open('delta-a');
    const reconnected = await again.config(0);
    expect(reconnected).to.include({ version: String(third), delta: false, baseVersion: '' });
    expect(names(reconnected)).to.deep.equal(['VirtualService/bookinfo/reviews']);
  });

  it('answers a NACKed delta once with the full snapshot, and a NACKed full snapshot with nothing', async () => {
    await admin('apply', rule('ROUND_ROBIN'));
    const s = open('nacker');
    await s.config(0);
    const revision = await admin('apply', route('reviews'));
    const delta = await s.config(1);
    expect(delta).to.include({ delta: true, version: String(revision) });
    s.nack(delta, 'delta based on "0" but this client holds "7"');
    const resent = await s.config(2);
    expect(resent).to.include({ version: String(revision), delta: false });
    expect(names(resent)).to.deep.equal(['DestinationRule/bookinfo/reviews', 'VirtualService/bookinfo/reviews']);
    s.nack(resent, 'cannot apply');
    s.nack(delta, 'delta based on "0" but this client holds "7"'); // a repeated NACK of the delta: no second resend
    await new Promise((r) => setTimeout(r, 300));
    expect(s.configs).to.have.length(3);
    // The session was last sent the full snapshot of that revision, so the next change is a delta again.
    const next = await admin('apply', route('ratings'));
    expect(await s.config(3)).to.include({ version: String(next), delta: true, baseVersion: String(revision) });
  });

  it('sends only full snapshots to a client that does not accept deltas', async () => {
    await admin('apply', rule('ROUND_ROBIN'));
    const s = open('old-client', false);
    await s.config(0);
    const revision = await admin('apply', route('reviews'));
    const update = await s.config(1);
    expect(update).to.include({ version: String(revision), delta: false });
    expect(names(update)).to.deep.equal(['DestinationRule/bookinfo/reviews', 'VirtualService/bookinfo/reviews']);
  });
});
