import { expect } from 'chai';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { validateResource, type AuthorizationPolicy } from '@weft/api';
import { compileAuthorizationPolicy } from '../config/authorization-policy.js';
import { authorizationFor, isAllowed, NO_AUTHORIZATION, type WorkloadAuthorization } from '../config/workload-authorization.js';
import { ACCESS_DENIED_BODY, authorizeUpgrades, authorizingListener } from './authorize.js';
import { InboundRequest } from './inbound-request.js';

const SCOPE = { namespace: 'default', labels: { app: 'reviews' }, rootNamespace: 'istio-system' };

function authz(...specs: unknown[]): WorkloadAuthorization {
  return authorizationFor(
    specs.map((spec, i) =>
      compileAuthorizationPolicy(validateResource({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: `p${i}` }, spec }) as AuthorizationPolicy),
    ),
    SCOPE,
  );
}

/** A raw request (http.request sends the path as given, unlike fetch, which normalizes it). */
function send(port: number, path: string, method = 'GET', headers: http.OutgoingHttpHeaders = {}): Promise<{ status: number; type: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('authorizingListener (real server)', () => {
  let server: http.Server;
  let port: number;
  let policies: WorkloadAuthorization = NO_AUTHORIZATION;
  const seen: string[] = [];

  before(async () => {
    server = http.createServer(
      authorizingListener((req, res) => {
        seen.push(`${req.method} ${req.url}`);
        res.end('ok');
      }, () => policies),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    seen.length = 0;
    policies = NO_AUTHORIZATION;
  });

  it('without a policy, passes every request to the handler untouched', async () => {
    expect((await send(port, '/a/../b?x=1')).status).to.equal(200);
    expect(seen).to.deep.equal(['GET /a/../b?x=1']);
  });

  it("denies with Envoy's 403 `RBAC: access denied` (text/plain), and never calls the handler", async () => {
    policies = authz({});
    const res = await send(port, '/');
    expect(res).to.deep.equal({ status: 403, type: 'text/plain', body: ACCESS_DENIED_BODY });
    expect(ACCESS_DENIED_BODY).to.equal('RBAC: access denied');
    expect(seen).to.deep.equal([]);
    policies = authz({ rules: [{}] });
    expect((await send(port, '/')).status).to.equal(200);
  });

  it('judges the normalized path, hands that path to the handler, and keeps the query', async () => {
    policies = authz({ action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin*'] } }] }] });
    for (const path of ['/admin', '/public/../admin', '/%61dmin/x', '/public\\..\\admin', 'http://reviews/admin']) {
      expect((await send(port, path)).status, path).to.equal(403);
    }
    expect(seen).to.deep.equal([]);
    expect((await send(port, '/public/./%7Euser?q=/admin')).status).to.equal(200);
    expect(seen).to.deep.equal(['GET /public/~user?q=/admin']);
  });

  it('reads the method, the Host header, the port the request arrived on, the caller address and headers', async () => {
    policies = authz({
      rules: [
        {
          from: [{ source: { ipBlocks: ['127.0.0.0/8'] } }],
          to: [{ operation: { methods: ['POST'], hosts: ['reviews'], ports: [String(port)] } }],
          when: [{ key: 'request.headers[x-user]', values: ['jason'] }],
        },
      ],
    });
    expect((await send(port, '/', 'POST', { host: 'Reviews:9080', 'x-user': 'jason' })).status).to.equal(200);
    expect((await send(port, '/', 'GET', { host: 'reviews:9080', 'x-user': 'jason' })).status).to.equal(403);
    expect((await send(port, '/', 'POST', { host: 'ratings:9080', 'x-user': 'jason' })).status).to.equal(403);
    expect((await send(port, '/', 'POST', { host: 'reviews', 'x-user': 'bob' })).status).to.equal(403);
    policies = authz({ rules: [{ to: [{ operation: { ports: ['9080'] } }] }] });
    expect((await send(port, '/', 'GET', { host: 'reviews:9080' })).status).to.equal(403);
  });

  it('reports what a decision costs per request (no timing assertion)', () => {
    const bookinfo = authz(
      { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin*', '*.bak'] } }] }, { when: [{ key: 'request.headers[x-block]', values: ['*'] }] }] },
      { rules: [{ to: [{ operation: { methods: ['GET', 'HEAD'], paths: ['/reviews/*', '/health'] } }] }] },
      { rules: [{ from: [{ source: { principals: ['cluster.local/ns/default/sa/bookinfo-productpage'] } }], to: [{ operation: { methods: ['GET'] } }] }] },
    );
    const socket = { remoteAddress: '127.0.0.1', localPort: 9080 };
    const req = { method: 'GET', url: '/reviews/0?x=1', headers: { host: 'reviews:9080' }, socket } as unknown as http.IncomingMessage;
    const n = 200_000;
    let allowed = 0;
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) if (isAllowed(bookinfo, new InboundRequest(req))) allowed++;
    const ns = Number(process.hrtime.bigint() - start) / n;
    expect(allowed).to.equal(n);
    console.log(`      authorization: ${ns.toFixed(0)} ns per request (3 policies, 2 DENY rules + 2 ALLOW, ${n} requests)`);
  });
});

/** Sends raw HTTP on a socket and returns everything the server wrote until it closed (or 2 s passed). */
function rawExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let got = '';
    const timer = setTimeout(() => socket.destroy(), 2000);
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => {
      got += c;
      if (got.startsWith('HTTP/1.1 101')) socket.end();
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
    socket.on('error', reject);
  });
}

describe('authorizeUpgrades (real server)', () => {
  it('decides Upgrade, CONNECT and Expect requests before the application sees them', async () => {
    let policies: WorkloadAuthorization = NO_AUTHORIZATION;
    const upgraded: string[] = [];
    const server = http.createServer(authorizingListener((_req, res) => res.end('ok'), () => policies));
    authorizeUpgrades(server, () => policies);
    const onRaw = (req: http.IncomingMessage, socket: import('node:stream').Duplex) => {
      upgraded.push(`${req.method} ${req.url}`);
      socket.end('HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n');
    };
    server.on('upgrade', onRaw);
    server.on('connect', onRaw);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const upgrade = (path: string) => rawExchange(port, `GET ${path} HTTP/1.1\r\nhost: reviews\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n`);
    try {
      expect(await upgrade('/ws')).to.match(/^HTTP\/1\.1 101 /);
      policies = authz({ action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin*'] } }] }] });
      const denied = await upgrade('/x/../admin/ws');
      expect(denied).to.match(/^HTTP\/1\.1 403 Forbidden\r\n/);
      expect(denied.endsWith(`\r\n\r\n${ACCESS_DENIED_BODY}`)).to.equal(true);
      expect(await rawExchange(port, 'CONNECT /admin HTTP/1.1\r\nhost: reviews\r\n\r\n')).to.match(/^HTTP\/1\.1 403 /);
      expect(await upgrade('/public/./ws')).to.match(/^HTTP\/1\.1 101 /);
      expect(upgraded).to.deep.equal(['GET /ws', 'GET /public/ws']);
      // An application that answers `Expect: 100-continue` itself gets those requests past 'request'.
      server.on('checkContinue', (req, res) => {
        upgraded.push(`continue ${req.url}`);
        res.writeContinue();
        res.end('ok');
      });
      const expectContinue = (path: string) => rawExchange(port, `POST ${path} HTTP/1.1\r\nhost: reviews\r\nexpect: 100-continue\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
      expect(await expectContinue('/admin')).to.match(/^HTTP\/1\.1 403 Forbidden\r\n[\s\S]*RBAC: access denied$/);
      expect(await expectContinue('/ok')).to.match(/^HTTP\/1\.1 100 Continue/);
      expect(upgraded.slice(2)).to.deep.equal(['continue /ok']);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
