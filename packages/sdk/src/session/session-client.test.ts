import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import { MAX_ENDPOINTS_PER_SESSION, MAX_SUBSCRIPTIONS_PER_SESSION } from '@weft/api';
import { SessionClient, type SessionHandlers } from './session-client.js';

/** A client that is never started: what it refuses, it refuses before anything goes on the wire. */
function idleClient(errors: unknown[]): SessionClient {
  const handlers: SessionHandlers = {
    welcome: () => undefined,
    config: () => undefined,
    endpoints: () => undefined,
    disconnected: () => undefined,
    connectFailed: () => undefined,
    error: (e) => errors.push(e),
  };
  const workload = { instanceId: 'i1', service: 's', namespace: 'n', labels: {}, serviceAccount: 'sa', workloadName: 'w' };
  return new SessionClient({ address: '127.0.0.1:1', workload, sdkVersion: 'test', holdsView: () => false, credentials: grpc.credentials.createInsecure() }, handlers);
}

describe('SessionClient limits', () => {
  const errors: unknown[] = [];
  let client: SessionClient;
  beforeEach(() => {
    errors.length = 0;
    client = idleClient(errors);
  });
  afterEach(() => client.close());

  it('refuses to register more endpoints than weftd accepts, keeping the previous set', async () => {
    const endpoint = (port: number) => ({ address: '127.0.0.1', port, protocol: 'http', servicePort: 0 });
    await client.register([endpoint(1)]);
    const tooMany = Array.from({ length: MAX_ENDPOINTS_PER_SESSION + 1 }, (_, i) => endpoint(i + 1));
    let refused: Error | undefined;
    await client.register(tooMany).catch((e: Error) => (refused = e));
    expect(refused?.message).to.contain(`at most ${MAX_ENDPOINTS_PER_SESSION}`).and.contain('MAX_ENDPOINTS_PER_SESSION');
    expect((client as unknown as { endpoints: unknown[] }).endpoints).to.have.length(1);
  });

  it('subscribes no more hosts than weftd accepts and reports the rest as an error', () => {
    const added = client.subscribe(Array.from({ length: MAX_SUBSCRIPTIONS_PER_SESSION + 5 }, (_, i) => `h${i}.n.svc.cluster.local`));
    expect(added).to.have.length(MAX_SUBSCRIPTIONS_PER_SESSION);
    expect(client.subscribedHosts()).to.have.length(MAX_SUBSCRIPTIONS_PER_SESSION);
    expect(String(errors[0])).to.contain('not subscribing 5 more hosts').and.contain('MAX_SUBSCRIPTIONS_PER_SESSION');
  });
});
