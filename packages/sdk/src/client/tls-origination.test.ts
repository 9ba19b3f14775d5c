import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PeerCertificate } from 'node:tls';
import { CertificateAuthority, createWorkloadKey } from '@weft/ca';
import { expect } from 'chai';
import { Pool } from 'undici';
import type { TlsOrigination } from '../config/compiled.js';
import { TLS_SETTINGS_ERROR } from './pem-files.js';
import { subjectAltNameProblem, subjectAltNames, TlsOriginator } from './tls-origination.js';

const SOURCE = 'DestinationRule shop/ext: spec.trafficPolicy.tls';

function origination(over: Partial<TlsOrigination>): TlsOrigination {
  const o = {
    mode: 'SIMPLE' as const, source: SOURCE, clientCertificate: undefined, privateKey: undefined, caCertificates: undefined, caCrl: undefined,
    subjectAltNames: [], sni: undefined, insecureSkipVerify: false, ...over,
  };
  return { ...o, key: JSON.stringify(o) };
}

describe('subjectAltNames of a server certificate', () => {
  const cert = (subjectaltname: string) => ({ subjectaltname }) as PeerCertificate;

  it("reads Node's subjectaltname text, quoted values included", () => {
    expect(subjectAltNames('DNS:a.example.com, URI:spiffe://cluster.local/ns/shop/sa/api, IP Address:127.0.0.1')).to.deep.equal([
      ['DNS', 'a.example.com'], ['URI', 'spiffe://cluster.local/ns/shop/sa/api'], ['IP Address', '127.0.0.1'],
    ]);
    expect(subjectAltNames('DNS:"a, b", DNS:c')).to.deep.equal([['DNS', 'a, b'], ['DNS', 'c']]);
    expect(subjectAltNames('')).to.deep.equal([]);
  });

  it('passes when the certificate carries one of the names (DNS any case, one-label wildcard; URI and IP exact), and says what it has when not', () => {
    const c = cert('DNS:*.example.com, DNS:API.other.test, URI:spiffe://td/ns/a/sa/b, IP Address:10.0.0.1');
    for (const ok of [['x.example.com'], ['nope', 'api.other.test'], ['spiffe://td/ns/a/sa/b'], ['10.0.0.1']]) expect(subjectAltNameProblem(c, ok, SOURCE), ok.join()).to.equal(undefined);
    for (const bad of [['example.com'], ['a.b.example.com'], ['spiffe://td/ns/a/sa/c'], ['10.0.0.2']]) expect(subjectAltNameProblem(c, bad, SOURCE), bad.join()).to.be.instanceOf(Error);
    const e = subjectAltNameProblem(cert('DNS:a.test'), ['b.test', 'c.test'], SOURCE) as Error & { code: string };
    expect(e.code).to.equal('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(e.message).to.equal(`the server certificate carries none of the subjectAltNames ["b.test","c.test"] of ${SOURCE} (its subjectAltNames: DNS:a.test)`);
  });
});

describe('TlsOriginator', function () {
  this.timeout(20000);
  const ca = CertificateAuthority.createRoot();
  const otherCa = CertificateAuthority.createRoot();
  const serverKey = createWorkloadKey();
  const serverCert = ca.issueServerCertificate({ publicKey: serverKey.privateKey, id: 'spiffe://cluster.local/ns/ext/sa/api', dnsNames: ['api.example.test'] });
  let dir: string;
  let server: https.Server;
  let port: number;
  const pools: Pool[] = [];

  before(async () => {
    // Connection: close, so that every request makes a new connection and reads the files again.
    server = https.createServer({ key: serverKey.privateKeyPem, cert: serverCert.chainPem }, (req, res) => {
      res.setHeader('connection', 'close');
      res.end(`tls ${req.headers.host}`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    await Promise.all(pools.map((p) => p.destroy()));
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'weft-orig-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const get = async (pool: Pool): Promise<string> => {
    const res = await pool.request({ path: '/', method: 'GET', headers: { host: `api.example.test:${port}` } });
    return res.body.text();
  };
  const failureOf = async (p: Promise<unknown>): Promise<Error & { code?: string }> => {
    try {
      await p;
    } catch (e) {
      return e as Error & { code?: string };
    }
    throw new Error('expected a failure');
  };
  const poolFor = (originator: TlsOriginator, o: TlsOrigination, host = 'api.example.test'): Pool => {
    const pool = new Pool(`https://127.0.0.1:${port}`, { connect: originator.connector(o, host) });
    pools.push(pool);
    return pool;
  };

  it('uses the files as they are at each new connection: a rotated CA file is picked up, a missing one is reported once', async () => {
    const problems: Error[] = [];
    const originator = new TlsOriginator({ problem: (e) => problems.push(e) });
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, ca.root.pem);
    const pool = poolFor(originator, origination({ caCertificates: caFile }));
    expect(await get(pool)).to.equal(`tls api.example.test:${port}`);
    writeFileSync(caFile, otherCa.root.pem + '\n');
    expect((await failureOf(get(pool))).code).to.equal('SELF_SIGNED_CERT_IN_CHAIN'); // the server sends its chain up to its root
    rmSync(caFile);
    for (let i = 0; i < 2; i++) {
      const e = await failureOf(get(pool));
      expect(e.code).to.equal(TLS_SETTINGS_ERROR);
      expect(e.message).to.equal(`${SOURCE}.caCertificates: ${caFile}: no such file (ENOENT)`);
    }
    expect(problems.map((p) => p.message)).to.deep.equal([`${SOURCE}.caCertificates: ${caFile}: no such file (ENOENT)`]);
    writeFileSync(caFile, ca.root.pem);
    expect(await get(pool)).to.equal(`tls api.example.test:${port}`);
  });

  it('checks the name the caller named (or sni), or the subjectAltNames instead; insecureSkipVerify checks nothing', async () => {
    const originator = new TlsOriginator();
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, ca.root.pem);
    expect((await failureOf(get(poolFor(originator, origination({ caCertificates: caFile }), 'other.example.test')))).code).to.equal('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(await get(poolFor(originator, origination({ caCertificates: caFile, sni: 'api.example.test' }), 'other.example.test'))).to.match(/^tls /);
    expect(await get(poolFor(originator, origination({ caCertificates: caFile, subjectAltNames: ['spiffe://cluster.local/ns/ext/sa/api'] }), 'other.example.test'))).to.match(/^tls /);
    const wrongSan = await failureOf(get(poolFor(originator, origination({ caCertificates: caFile, subjectAltNames: ['db.example.test'] }))));
    expect(wrongSan.message).to.match(/carries none of the subjectAltNames \["db\.example\.test"\]/);
    // Node's trust store does not know this CA.
    expect((await failureOf(get(poolFor(originator, origination({}))))).code).to.equal('SELF_SIGNED_CERT_IN_CHAIN');
    expect(await get(poolFor(originator, origination({ insecureSkipVerify: true }), 'other.example.test'))).to.match(/^tls /);
  });

  it('names both files when the private key is not the client certificate\'s', async () => {
    const problems: Error[] = [];
    const originator = new TlsOriginator({ problem: (e) => problems.push(e) });
    const client = ca.issueServerCertificate({ publicKey: createWorkloadKey().privateKey, id: 'spiffe://cluster.local/ns/shop/sa/web' });
    const certFile = join(dir, 'client.pem');
    const keyFile = join(dir, 'client-key.pem');
    writeFileSync(certFile, client.chainPem);
    writeFileSync(keyFile, createWorkloadKey().privateKeyPem);
    const o = origination({ mode: 'MUTUAL', clientCertificate: certFile, privateKey: keyFile, insecureSkipVerify: true });
    const e = await failureOf(get(poolFor(originator, o)));
    expect(e.code).to.equal(TLS_SETTINGS_ERROR);
    expect(e.message).to.match(new RegExp(`^${SOURCE.replace(/[./]/g, '\\$&')}: the privateKey ${keyFile.replace(/[./]/g, '\\$&')} is not the key of the clientCertificate ${certFile.replace(/[./]/g, '\\$&')} \\(OpenSSL: .*key values mismatch`));
    expect(problems).to.have.length(1);
  });
});
