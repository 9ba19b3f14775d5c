// TLS origination, Istio's egress pattern: a DestinationRule with tls.mode SIMPLE or MUTUAL for a host
// outside the mesh makes mesh.fetch / mesh.request speak TLS to it even for an http: URL, with the
// rule's files (paths on this machine), subjectAltNames, sni, insecureSkipVerify and caCrl. Real HTTPS
// servers on 127.0.0.1 port 0 with certificates made here (@weft/ca; OpenSSL for the CRLs), a real
// weftd, `*.test` names resolved to 127.0.0.1 (resolveTestNamesLocally). A missing or bad file fails the
// requests to that host naming the rule, the field and the path, is reported once, and never NACKs the
// config. The same settings also apply to a mesh service (MUTUAL with the caller's own mesh certificate).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { CertificateAuthority, createWorkloadKey } from '@weft/ca';
import { isWeftError, type Mesh, type WeftError } from '@weft/sdk';
import { expect } from 'chai';
import { joinToken, startWeftd, type WeftdHandle } from '../support/weftd.js';
import { clientMesh, rejectionOf, resolveTestNamesLocally } from './sdk-fetch-fixtures.js';
import { applyYaml, NS, waitFor } from './sdk-fixtures.js';

/** What the TLS servers answer: how the request and its connection arrived. */
interface TlsEcho {
  name: string;
  url: string;
  host: string | null;
  /** The SNI the client sent. */
  servername: string | null;
  /** The client certificate's subjectAltName, or null without one. */
  clientSan: string | null;
}

interface TlsServer {
  port: number;
  close(): Promise<void>;
}

async function startTlsServer(name: string, options: https.ServerOptions, closeEach = false): Promise<TlsServer> {
  const server = https.createServer(options, (req, res) => {
    const socket = req.socket as TLSSocket;
    const peer = socket.getPeerCertificate();
    const echo: TlsEcho = {
      name,
      url: req.url ?? '',
      host: req.headers.host ?? null,
      servername: typeof socket.servername === 'string' ? socket.servername : null,
      clientSan: peer && Object.keys(peer).length > 0 ? (peer.subjectaltname ?? '') : null,
    };
    res.setHeader('content-type', 'application/json');
    // A new connection for every request, where a test needs each one to read the files again.
    if (closeEach) res.setHeader('connection', 'close');
    res.end(JSON.stringify(echo));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A CA, a server certificate for crl.tls.test, and two CRLs of the CA (none revoked; the server's revoked), made with OpenSSL. */
function opensslCaWithCrls(dir: string): { caPem: string; keyPem: string; certPem: string; emptyCrl: string; revokedCrl: string } {
  const sh = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  sh('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'crl-ca.key', '-out', 'crl-ca.pem', '-days', '2', '-subj', '/CN=Weft CRL test CA', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  sh('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'crl-srv.key', '-out', 'crl-srv.csr', '-subj', '/CN=crl.tls.test');
  writeFileSync(join(dir, 'crl-srv.ext'), 'subjectAltName=DNS:crl.tls.test\n');
  sh('x509', '-req', '-in', 'crl-srv.csr', '-CA', 'crl-ca.pem', '-CAkey', 'crl-ca.key', '-set_serial', '4097', '-out', 'crl-srv.pem', '-days', '2', '-extfile', 'crl-srv.ext');
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'ca.cnf'), '[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\ndefault_md=sha256\ndefault_crl_days=2\n');
  const ca = ['-config', 'ca.cnf', '-keyfile', 'crl-ca.key', '-cert', 'crl-ca.pem'];
  sh('ca', ...ca, '-gencrl', '-out', 'empty.crl');
  sh('ca', ...ca, '-revoke', 'crl-srv.pem');
  sh('ca', ...ca, '-gencrl', '-out', 'revoked.crl');
  const read = (f: string) => execFileSync('cat', [join(dir, f)], { encoding: 'utf8' });
  return { caPem: read('crl-ca.pem'), keyPem: read('crl-srv.key'), certPem: read('crl-srv.pem'), emptyCrl: read('empty.crl'), revokedCrl: read('revoked.crl') };
}

describe('TLS origination to hosts outside the mesh (DestinationRule tls SIMPLE / MUTUAL)', function () {
  this.timeout(30000);
  let weftd: WeftdHandle;
  let client: Mesh;
  let restoreDns: () => void;
  let dir: string;
  let simple: TlsServer;
  let mutual: TlsServer;
  const reports: Error[] = [];
  const servers: TlsServer[] = [];
  const file = (name: string) => join(dir, name);

  const serverCa = CertificateAuthority.createRoot();
  const otherCa = CertificateAuthority.createRoot();
  const clientCa = CertificateAuthority.createRoot();
  const serverKey = createWorkloadKey();
  const serverCert = serverCa.issueServerCertificate({ publicKey: serverKey.privateKey, id: 'spiffe://cluster.local/ns/ext/sa/api', dnsNames: ['api.tls.test', 'mtls.tls.test', 'nocert.tls.test'] });
  const clientKey = createWorkloadKey();
  const clientCert = clientCa.issueServerCertificate({ publicKey: clientKey.privateKey, id: `spiffe://cluster.local/ns/${NS}/sa/web` });

  /** Applies a DestinationRule for `host` with `tls` (YAML flow map) and waits until the client has it. */
  const applyRule = async (name: string, host: string, tls: string): Promise<number> => {
    const revision = await applyYaml(weftd.adminUrl, `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${name}, namespace: ${NS} }
spec:
  host: ${host}
  trafficPolicy:
    tls: ${tls}
`);
    await waitFor(`DestinationRule ${name} in the client`, () => client.status().configVersion === String(revision));
    return revision;
  };
  const echoOf = async (res: Response): Promise<TlsEcho> => {
    expect(res.status).to.equal(200);
    return (await res.json()) as TlsEcho;
  };
  /** The WeftError a failed mesh.fetch carries (TypeError's cause, as undici's fetch). */
  const fetchFailure = async (url: string): Promise<WeftError> => {
    const e = await rejectionOf(client.fetch(url));
    expect(e).to.be.instanceOf(TypeError);
    const cause = (e as TypeError).cause;
    expect(isWeftError(cause), String(e)).to.equal(true);
    return cause as WeftError;
  };

  before(async () => {
    restoreDns = resolveTestNamesLocally();
    dir = mkdtempSync(join(tmpdir(), 'weft-egress-tls-'));
    writeFileSync(file('ca.pem'), serverCa.root.pem);
    writeFileSync(file('other-ca.pem'), otherCa.root.pem);
    writeFileSync(file('client.pem'), clientCert.chainPem);
    writeFileSync(file('client-key.pem'), clientKey.privateKeyPem);
    writeFileSync(file('not-the-client-key.pem'), createWorkloadKey().privateKeyPem);
    simple = await startTlsServer('simple', { key: serverKey.privateKeyPem, cert: serverCert.chainPem });
    mutual = await startTlsServer('mutual', { key: serverKey.privateKeyPem, cert: serverCert.chainPem, requestCert: true, rejectUnauthorized: true, ca: clientCa.root.pem });
    servers.push(simple, mutual);
    weftd = await startWeftd();
    client = await clientMesh(weftd.grpcAddress, { caFile: weftd.caFile });
    client.on('error', (e: Error) => reports.push(e));
  });

  after(async () => {
    await client?.close();
    for (const s of servers) await s.close();
    await weftd?.stop();
    restoreDns?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('originates TLS for an http: URL, through fetch and request; an https: URL gets the same settings (not TLS twice)', async () => {
    // Without a rule, Node's trust store does not know the server's CA.
    expect((await fetchFailure(`https://api.tls.test:${simple.port}/`)).message).to.match(/TLS: .*\(SELF_SIGNED_CERT_IN_CHAIN\)/);
    await applyRule('api', 'api.tls.test', `{ mode: SIMPLE, caCertificates: ${JSON.stringify(file('ca.pem'))} }`);
    const res = await client.fetch(`http://api.tls.test:${simple.port}/a?b=1`);
    expect(res.url).to.equal(`http://api.tls.test:${simple.port}/a?b=1`);
    expect(await echoOf(res)).to.deep.equal({ name: 'simple', url: '/a?b=1', host: `api.tls.test:${simple.port}`, servername: 'api.tls.test', clientSan: null });
    const viaRequest = await client.request(`http://api.tls.test:${simple.port}/r`);
    expect(((await viaRequest.body.json()) as TlsEcho)).to.include({ name: 'simple', url: '/r', servername: 'api.tls.test' });
    expect(await echoOf(await client.fetch(`https://api.tls.test:${simple.port}/s`))).to.include({ url: '/s', servername: 'api.tls.test' });
    expect(client.status().lastNack).to.equal(null);
  });

  it('checks subjectAltNames instead of the host name when the rule gives them, and names them when none matches', async () => {
    await applyRule('san', 'san.tls.test', `{ mode: SIMPLE, caCertificates: ${JSON.stringify(file('ca.pem'))}, subjectAltNames: [db.tls.test, "spiffe://cluster.local/ns/ext/sa/api"] }`);
    expect(await echoOf(await client.fetch(`http://san.tls.test:${simple.port}/`))).to.include({ name: 'simple', servername: 'san.tls.test' });

    await applyRule('nosan', 'nosan.tls.test', `{ mode: SIMPLE, caCertificates: ${JSON.stringify(file('ca.pem'))}, subjectAltNames: [db.tls.test] }`);
    const wrongSan = await fetchFailure(`http://nosan.tls.test:${simple.port}/`);
    expect(wrongSan).to.include({ code: 'UPSTREAM_CONNECT_FAILURE', status: 503, flag: 'UF' });
    expect(wrongSan.message).to.contain(`upstream connect error for nosan.tls.test at https://nosan.tls.test:${simple.port} (TLS by DestinationRule ${NS}/nosan: spec.trafficPolicy.tls, mode SIMPLE)`);
    expect(wrongSan.message).to.match(/the server certificate carries none of the subjectAltNames \["db\.tls\.test"\] .*\(its subjectAltNames: URI:spiffe:\/\/cluster\.local\/ns\/ext\/sa\/api, DNS:api\.tls\.test/);

    // Without subjectAltNames the host the caller named is checked, as any TLS client does.
    await applyRule('wrong-name', 'wrong.tls.test', `{ mode: SIMPLE, caCertificates: ${JSON.stringify(file('ca.pem'))} }`);
    expect((await fetchFailure(`http://wrong.tls.test:${simple.port}/`)).message).to.match(/TLS: Hostname\/IP does not match certificate's altnames.*\(ERR_TLS_CERT_ALTNAME_INVALID\)/);
  });

  it('sends the rule\'s sni and checks the certificate against it', async () => {
    await applyRule('alias', 'alias.tls.test', `{ mode: SIMPLE, caCertificates: ${JSON.stringify(file('ca.pem'))}, sni: api.tls.test }`);
    expect(await echoOf(await client.fetch(`http://alias.tls.test:${simple.port}/x`))).to.deep.equal({
      name: 'simple', url: '/x', host: `alias.tls.test:${simple.port}`, servername: 'api.tls.test', clientSan: null,
    });
  });

  it('fails the handshake with caCertificates of another CA; new settings never reuse a connection made with the old ones', async () => {
    const url = `http://api.tls.test:${simple.port}/`;
    expect((await echoOf(await client.fetch(url))).name).to.equal('simple'); // a keep-alive connection is open now
    await applyRule('api', 'api.tls.test', `{ mode: SIMPLE, caCertificates: ${JSON.stringify(file('other-ca.pem'))} }`);
    const e = await fetchFailure(url);
    expect(e).to.include({ code: 'UPSTREAM_CONNECT_FAILURE', flag: 'UF' });
    expect(e.message).to.match(/TLS: .*\(SELF_SIGNED_CERT_IN_CHAIN\)$/);
    await applyRule('api', 'api.tls.test', `{ mode: SIMPLE, caCertificates: ${JSON.stringify(file('ca.pem'))} }`);
    expect((await echoOf(await client.fetch(url))).name).to.equal('simple');
  });

  it('MUTUAL presents the client certificate of the files; a server that requires one refuses SIMPLE', async () => {
    await applyRule('mtls', 'mtls.tls.test', `{ mode: MUTUAL, clientCertificate: ${JSON.stringify(file('client.pem'))}, privateKey: ${JSON.stringify(file('client-key.pem'))}, caCertificates: ${JSON.stringify(file('ca.pem'))} }`);
    const echo = await echoOf(await client.fetch(`http://mtls.tls.test:${mutual.port}/m`));
    expect(echo).to.include({ name: 'mutual', url: '/m', servername: 'mtls.tls.test', clientSan: `URI:spiffe://cluster.local/ns/${NS}/sa/web` });

    await applyRule('nocert', 'nocert.tls.test', `{ mode: SIMPLE, caCertificates: ${JSON.stringify(file('ca.pem'))} }`);
    const refused = await rejectionOf(client.request(`http://nocert.tls.test:${mutual.port}/`));
    expect(isWeftError(refused), String(refused)).to.equal(true);
    expect((refused as WeftError).code).to.be.oneOf(['UPSTREAM_CONNECT_FAILURE', 'UPSTREAM_RESET']);
  });

  it('insecureSkipVerify accepts a server no check would pass (unknown CA, another name)', async () => {
    await applyRule('skip', 'skip.tls.test', '{ mode: SIMPLE, insecureSkipVerify: true }');
    expect(await echoOf(await client.fetch(`http://skip.tls.test:${simple.port}/`))).to.include({ name: 'simple', servername: 'skip.tls.test' });
  });

  it('a missing file fails the requests to that host naming rule, field and path, is reported once, NACKs nothing, and is used once it is there', async () => {
    const later = file('later-ca.pem');
    const revision = await applyRule('missing', 'missing.tls.test', `{ mode: SIMPLE, caCertificates: ${JSON.stringify(later)}, sni: api.tls.test }`);
    expect(client.status()).to.include({ configVersion: String(revision), lastNack: null });
    const before = reports.length;
    for (let i = 0; i < 3; i++) {
      const e = await fetchFailure(`http://missing.tls.test:${simple.port}/`);
      expect(e).to.include({ code: 'UPSTREAM_CONNECT_FAILURE', flag: 'UF' });
      expect(e.message).to.match(new RegExp(`: DestinationRule ${NS}/missing: spec\\.trafficPolicy\\.tls\\.caCertificates: ${later.replace(/[./]/g, '\\$&')}: no such file \\(ENOENT\\)$`));
    }
    const reported = reports.slice(before);
    expect(reported.map((r) => r.message)).to.deep.equal([`DestinationRule ${NS}/missing: spec.trafficPolicy.tls.caCertificates: ${later}: no such file (ENOENT)`]);
    // Other hosts are untouched.
    expect((await echoOf(await client.fetch(`http://api.tls.test:${simple.port}/`))).name).to.equal('simple');
    writeFileSync(later, serverCa.root.pem);
    expect(await echoOf(await client.fetch(`http://missing.tls.test:${simple.port}/`))).to.include({ name: 'simple' });
  });

  it('a private key that is not the client certificate\'s names both files', async () => {
    await applyRule('mismatch', 'mismatch.tls.test', `{ mode: MUTUAL, clientCertificate: ${JSON.stringify(file('client.pem'))}, privateKey: ${JSON.stringify(file('not-the-client-key.pem'))}, caCertificates: ${JSON.stringify(file('ca.pem'))} }`);
    const e = await rejectionOf(client.request(`http://mismatch.tls.test:${mutual.port}/`));
    expect(isWeftError(e)).to.equal(true);
    expect((e as WeftError).message).to.contain(
      `DestinationRule ${NS}/mismatch: spec.trafficPolicy.tls: the privateKey ${file('not-the-client-key.pem')} is not the key of the clientCertificate ${file('client.pem')}`,
    );
  });

  it('caCrl: a server certificate the CRL revokes is refused; a rotated CRL file is read by the next connection', async () => {
    const crl = opensslCaWithCrls(dir);
    const server = await startTlsServer('crl', { key: crl.keyPem, cert: crl.certPem }, true);
    servers.push(server);
    writeFileSync(file('crl-trust.pem'), crl.caPem);
    writeFileSync(file('current.crl'), crl.emptyCrl);
    await applyRule('crl', 'crl.tls.test', `{ mode: SIMPLE, caCertificates: ${JSON.stringify(file('crl-trust.pem'))}, caCrl: ${JSON.stringify(file('current.crl'))} }`);
    const url = `http://crl.tls.test:${server.port}/`;
    expect((await echoOf(await client.fetch(url))).name).to.equal('crl');
    writeFileSync(file('current.crl'), crl.revokedCrl);
    expect((await fetchFailure(url)).message).to.match(/TLS: certificate revoked \(CERT_REVOKED\)$/);
  });
});

describe('TLS origination to a mesh service (DestinationRule tls MUTUAL with files)', function () {
  this.timeout(30000);
  let weftd: WeftdHandle;
  const meshes: Mesh[] = [];
  let dir: string;

  before(async () => {
    weftd = await startWeftd();
    dir = mkdtempSync(join(tmpdir(), 'weft-mesh-tls-'));
  });
  after(async () => {
    await Promise.all(meshes.splice(0).map((m) => m.close()));
    await weftd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('presents the files (here the caller\'s own mesh certificate) and checks the subjectAltNames; SIMPLE is refused by a workload that requires mTLS', async () => {
    const catalog = await clientMesh(weftd.grpcAddress, { service: 'catalog', serviceAccount: 'catalog-sa', token: await joinToken(weftd, NS, 'catalog-sa') });
    meshes.push(catalog);
    await catalog.serve((req, res) => res.end(catalog.peer(req)?.principal ?? 'plaintext'), { port: 0, host: '127.0.0.1' });
    const web = await clientMesh(weftd.grpcAddress, { serviceAccount: 'web-sa', token: await joinToken(weftd, NS, 'web-sa'), subscribe: ['catalog'] });
    meshes.push(web);
    const material = web.identity!.tls()!;
    writeFileSync(join(dir, 'web.pem'), material.chainPem);
    writeFileSync(join(dir, 'web-key.pem'), material.keyPem);
    writeFileSync(join(dir, 'bundle.pem'), material.bundlePem);
    const apply = async (tls: string) => {
      const revision = await applyYaml(weftd.adminUrl, `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: catalog, namespace: ${NS} }
spec:
  host: catalog
  trafficPolicy:
    tls: ${tls}
`);
      await waitFor('the DestinationRule in the caller', () => web.status().configVersion === String(revision));
    };
    const files = `clientCertificate: ${JSON.stringify(join(dir, 'web.pem'))}, privateKey: ${JSON.stringify(join(dir, 'web-key.pem'))}, caCertificates: ${JSON.stringify(join(dir, 'bundle.pem'))}`;
    await apply(`{ mode: MUTUAL, ${files}, subjectAltNames: ["spiffe://cluster.local/ns/${NS}/sa/catalog-sa"] }`);
    const res = await web.request('http://catalog/');
    expect(await res.body.text()).to.equal(`cluster.local/ns/${NS}/sa/web-sa`);

    await apply(`{ mode: MUTUAL, ${files}, subjectAltNames: ["spiffe://cluster.local/ns/${NS}/sa/someone-else"] }`);
    const wrong = await rejectionOf(web.request('http://catalog/'));
    expect((wrong as WeftError).message).to.match(/carries none of the subjectAltNames \["spiffe:\/\/cluster\.local\/ns\/shop\/sa\/someone-else"\]/);

    await apply(`{ mode: SIMPLE, caCertificates: ${JSON.stringify(join(dir, 'bundle.pem'))}, subjectAltNames: ["spiffe://cluster.local/ns/${NS}/sa/catalog-sa"] }`);
    const refused = await rejectionOf(web.request('http://catalog/'));
    expect(isWeftError(refused), String(refused)).to.equal(true);
    expect((refused as WeftError).code).to.be.oneOf(['UPSTREAM_CONNECT_FAILURE', 'UPSTREAM_RESET']);
  });
});
