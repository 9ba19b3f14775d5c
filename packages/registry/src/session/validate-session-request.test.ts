import { expect } from 'chai';
import type { SessionRequestMsg } from '@weft/api';
import { sessionRequestProblem } from './validate-session-request.js';

const hello = (over: Record<string, unknown> = {}): SessionRequestMsg => ({
  kind: 'hello',
  hello: { sdkVersion: '', resume: false, workload: { instanceId: 'i1', service: 'reviews', namespace: 'bookinfo', labels: {}, serviceAccount: '', workloadName: '', ...over } },
});

describe('sessionRequestProblem', () => {
  it('accepts well-formed messages', () => {
    expect(sessionRequestProblem(hello())).to.equal(undefined);
    expect(sessionRequestProblem({ kind: 'register', register: { endpoints: [{ address: '127.0.0.1', port: 80, protocol: 'http2', servicePort: 0 }] } })).to.equal(undefined);
    expect(sessionRequestProblem({ kind: 'subscribe', subscribe: { hosts: ['a.b.svc.cluster.local'] } })).to.equal(undefined);
    expect(sessionRequestProblem({ kind: 'ack', ack: { type: 'config', version: '1', nonce: 'n', error: '' } })).to.equal(undefined);
  });

  it('names the field that is wrong', () => {
    expect(sessionRequestProblem(hello({ instanceId: '' }))).to.match(/instanceId/);
    expect(sessionRequestProblem(hello({ service: 'Reviews' }))).to.match(/workload\.service "Reviews"/);
    expect(sessionRequestProblem(hello({ namespace: '' }))).to.match(/workload\.namespace/);
    expect(sessionRequestProblem({ kind: 'register', register: { endpoints: [{ address: '127.0.0.1', port: 0, protocol: 'http', servicePort: 0 }] } })).to.match(/endpoints\[0\]\.port 0/);
    expect(sessionRequestProblem({ kind: 'register', register: { endpoints: [{ address: '127.0.0.1', port: 80, protocol: 'tcp', servicePort: 0 }] } })).to.match(/protocol "tcp"/);
    expect(sessionRequestProblem({ kind: 'register', register: { endpoints: [{ address: '', port: 80, protocol: 'http', servicePort: 0 }] } })).to.match(/address/);
    expect(sessionRequestProblem({ kind: 'subscribe', subscribe: { hosts: [] } })).to.match(/hosts must not be empty/);
    expect(sessionRequestProblem({ kind: 'subscribe', subscribe: { hosts: ['ok', ''] } })).to.match(/hosts\[1\]/);
    expect(sessionRequestProblem({ kind: 'ack', ack: { type: 'cfg', version: '1', nonce: 'n', error: '' } })).to.match(/ack\.type/);
  });
});
