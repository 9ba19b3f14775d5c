import { expect } from 'chai';
import { MAX_CHAIN_PEM_BYTES, MAX_ENDPOINTS_PER_SESSION, MAX_JOIN_TOKEN_LENGTH, MAX_PROOF_BYTES, MAX_REQUEST_CSR_PEM_BYTES, MAX_INSTANCE_ID_LENGTH, MAX_LABELS, MAX_SUBSCRIPTIONS_PER_SESSION, type SessionRequestMsg } from '@weft/api';
import { sessionRequestProblem } from './validate-session-request.js';

const hello = (over: Record<string, unknown> = {}): SessionRequestMsg => ({
  kind: 'hello',
  hello: { sdkVersion: '', resume: false, workload: { instanceId: 'i1', service: 'reviews', namespace: 'bookinfo', labels: {}, serviceAccount: '', workloadName: '', ...over } },
});
const endpoint = (port = 80) => ({ address: '127.0.0.1', port, protocol: 'http2', servicePort: 0 });
const subscribe = (hosts: string[]): SessionRequestMsg => ({ kind: 'subscribe', subscribe: { hosts } });
const message = (msg: SessionRequestMsg, namespace?: string) => sessionRequestProblem(msg, namespace)?.message;

describe('sessionRequestProblem', () => {
  it('accepts well-formed messages', () => {
    expect(sessionRequestProblem(hello({ labels: { version: 'v1', 'app.kubernetes.io/name': 'reviews', empty: '' }, workloadName: 'reviews-v1', serviceAccount: 'bookinfo-reviews' }))).to.equal(undefined);
    expect(sessionRequestProblem({ kind: 'register', register: { endpoints: [endpoint()] } })).to.equal(undefined);
    expect(sessionRequestProblem(subscribe(['a.b.svc.cluster.local', 'Reviews.Bookinfo', 'ratings', '10.0.0.1']))).to.equal(undefined);
    expect(sessionRequestProblem({ kind: 'ack', ack: { type: 'config', version: '1', nonce: 'n', error: '' } })).to.equal(undefined);
  });

  it('names the field that is wrong', () => {
    expect(message(hello({ instanceId: '' }))).to.match(/instanceId/);
    expect(message(hello({ service: 'Reviews' }))).to.match(/workload\.service "Reviews"/);
    expect(message(hello({ namespace: '' }))).to.match(/workload\.namespace/);
    expect(message({ kind: 'register', register: { endpoints: [{ ...endpoint(), port: 0 }] } })).to.match(/endpoints\[0\]\.port 0/);
    expect(message({ kind: 'register', register: { endpoints: [{ ...endpoint(), protocol: 'tcp' }] } })).to.match(/protocol "tcp"/);
    expect(message({ kind: 'register', register: { endpoints: [{ ...endpoint(), address: '' }] } })).to.match(/address/);
    expect(message(subscribe([]))).to.match(/hosts must not be empty/);
    expect(message(subscribe(['ok', '']))).to.match(/hosts\[1\]/);
    expect(message({ kind: 'ack', ack: { type: 'cfg', version: '1', nonce: 'n', error: '' } })).to.match(/ack\.type/);
  });

  it('bounds the sizes of Hello fields and names the limit', () => {
    const huge = 'x'.repeat(1024 * 1024);
    const p = sessionRequestProblem(hello({ instanceId: huge }));
    expect(p?.kind).to.equal('invalid');
    expect(p?.message).to.contain(`at most ${MAX_INSTANCE_ID_LENGTH}`).and.contain('MAX_INSTANCE_ID_LENGTH');
    expect(p!.message.length).to.be.lessThan(400); // the value is cut, not echoed whole
    expect(message(hello({ workloadName: 'w'.repeat(254) }))).to.contain('MAX_WORKLOAD_NAME_LENGTH');
    expect(message(hello({ serviceAccount: 's'.repeat(254) }))).to.contain('MAX_SERVICE_ACCOUNT_LENGTH');
    expect(message(hello({ instanceId: 'a b' }))).to.contain('visible ASCII');
    expect(message(hello({ workloadName: 'w\x1b[31m' }))).to.contain('\\u001b');
    const many = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, 'v']));
    expect(message(hello({ labels: many }))).to.contain(`at most ${MAX_LABELS}`);
  });

  it('checks label keys and values as Kubernetes does, with own-property semantics', () => {
    expect(message(hello({ labels: { 'bad key': 'v' } }))).to.contain('is not a label name');
    expect(message(hello({ labels: { k: 'v'.repeat(64) } }))).to.contain('MAX_LABEL_VALUE_LENGTH');
    expect(message(hello({ labels: { k: 'a b' } }))).to.contain('is not a label value');
    expect(message(hello({ labels: { ['n'.repeat(64)]: 'v' } }))).to.contain('is not a label name');
    expect(message(hello({ labels: { 'Bad_Prefix/name': 'v' } }))).to.contain('prefix "Bad_Prefix"');
    expect(message(hello({ labels: { constructor: 'x' } }))).to.contain('reserved');
    // JSON.parse makes `__proto__` an own property, as a decoder may: it is a key like any other, and refused.
    expect(message(hello({ labels: JSON.parse('{"__proto__": "x"}') as Record<string, string> }))).to.contain('"__proto__" is reserved');
  });

  it('refuses more endpoints or subscriptions than a session may hold as a limit', () => {
    const register = sessionRequestProblem({ kind: 'register', register: { endpoints: Array.from({ length: MAX_ENDPOINTS_PER_SESSION + 1 }, (_, i) => endpoint(1000 + i)) } });
    expect(register?.kind).to.equal('limit');
    expect(register?.message).to.contain(`at most ${MAX_ENDPOINTS_PER_SESSION}`).and.contain('MAX_ENDPOINTS_PER_SESSION');
    const sub = sessionRequestProblem(subscribe(Array.from({ length: MAX_SUBSCRIPTIONS_PER_SESSION + 1 }, (_, i) => `h${i}`)));
    expect(sub?.kind).to.equal('limit');
    expect(sub?.message).to.contain('MAX_SUBSCRIPTIONS_PER_SESSION');
  });

  it('accepts only DNS names as subscribed hosts, also after resolving them', () => {
    expect(message(subscribe(['a'.repeat(254)]))).to.contain('at most 253');
    expect(message(subscribe(['../../etc']))).to.contain('is not a DNS name');
    expect(message(subscribe(['evil\x1b[2J.com']))).to.contain('is not a DNS name').and.contain('\\u001b');
    expect(message(subscribe(['*.example.com']))).to.contain('is not a DNS name');
    expect(message(subscribe(['a'.repeat(63) + '.' + 'b'.repeat(63) + '.' + 'c'.repeat(63)]))).to.equal(undefined);
    // A short name of 63 resolves in the namespace: 63 + 1 + 63 + 18 fits; a namespace-qualified long name may not.
    expect(message(subscribe(['s'.repeat(63) + '.' + 'n'.repeat(63) + '.' + 'x'.repeat(63) + '.' + 'y'.repeat(50)]), 'ns')).to.equal(undefined);
    expect(message(subscribe(['s'.repeat(63) + '.' + 'n'.repeat(63)]), 'ns')).to.equal(undefined);
  });

  it('bounds a certificate request and wants exactly one proof', () => {
    const cert = (over: Record<string, unknown>): SessionRequestMsg => ({
      kind: 'certificateRequest',
      certificateRequest: { requestId: 'c1', csrPem: 'csr', token: '', currentChainPem: '', proof: Buffer.alloc(0), ...over },
    });
    expect(sessionRequestProblem(cert({ token: 't' }))).to.equal(undefined);
    expect(sessionRequestProblem(cert({ currentChainPem: 'c', proof: Buffer.alloc(64) }))).to.equal(undefined);
    expect(sessionRequestProblem(cert({ csrPem: 'x'.repeat(MAX_REQUEST_CSR_PEM_BYTES + 1) }))).to.deep.include({ kind: 'limit' });
    expect(message(cert({ csrPem: 'x'.repeat(MAX_REQUEST_CSR_PEM_BYTES + 1) }))).to.contain('MAX_REQUEST_CSR_PEM_BYTES');
    expect(message(cert({ token: 't'.repeat(MAX_JOIN_TOKEN_LENGTH + 1) }))).to.contain('MAX_JOIN_TOKEN_LENGTH');
    expect(message(cert({ currentChainPem: 'c'.repeat(MAX_CHAIN_PEM_BYTES + 1) }))).to.contain('MAX_CHAIN_PEM_BYTES');
    expect(message(cert({ proof: Buffer.alloc(MAX_PROOF_BYTES + 1) }))).to.contain('MAX_PROOF_BYTES');
    expect(message(cert({ csrPem: '' }))).to.match(/csr_pem must not be empty/);
    expect(message(cert({ token: 't', currentChainPem: 'c' }))).to.match(/both token and current_chain_pem/);
  });
});
