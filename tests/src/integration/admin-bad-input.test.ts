// weftd's admin port against bad input, with a real weftd: every client mistake is a 4xx whose
// message names the problem (never a 500, never a stack trace in weftd's log), slow and stalled
// clients hold nothing that others need, and after every case weftd still answers and the stored
// config is exactly what it was.
import { expect } from 'chai';
import type { IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, type Socket } from 'node:net';
import { MAX_ADMIN_BODY_BYTES } from '@weft/api';
import { adminTlsOf, connectAdminTls, type AdminTls } from '../support/admin-tls.js';
import { startWeftd, type WeftdHandle } from '../support/weftd.js';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The parsed JSON body ({} when the body is not JSON). */
  json: { error?: string; issues?: { source?: string; path?: string; message: string }[]; [k: string]: unknown };
}

const DR = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'DestinationRule',
  metadata: { name: 'reviews', namespace: 'bookinfo' },
  spec: { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] },
};
const VS = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name: 'reviews', namespace: 'bookinfo' },
  spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 90 }, { destination: { host: 'reviews', subset: 'v2' }, weight: 10 }] }] },
};
const YAML = 'application/yaml';

function billionLaughs(): string {
  let text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
  for (let i = 0, prev = 'a'; i < 9; prev = `b${i}`, i++) text += `b${i}: &b${i} [${Array(9).fill(`*${prev}`).join(',')}]\n`;
  return text;
}

describe('admin API: bad input', function () {
  this.timeout(20_000);
  let weftd: WeftdHandle;
  let port: number;
  let tls: AdminTls;
  /** The credential's header line, for requests written as raw bytes. */
  let authLine: string;
  let baseline: string;

  /** One request (with the admin credential) on its own TLS connection; the path is sent exactly as given. */
  function call(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const options = { host: '127.0.0.1', port, method, path, headers: { authorization: tls.authorization, ...headers }, agent: false, timeout: 10_000, ca: tls.ca, checkServerIdentity: tls.checkServerIdentity };
      const req = httpsRequest(options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: Answer['json'] = {};
          try {
            json = JSON.parse(text) as Answer['json'];
          } catch {
            // not JSON: json stays {}
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within 10 s`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  const applyJson = (resources: unknown[], query = '') =>
    call('POST', `/v1/apply${query}`, JSON.stringify({ resources: resources.map((object) => ({ object })) }), { 'content-type': 'application/json' });

  /** Bytes written as they are on a fresh TLS connection; everything weftd sends back until it closes (or 10 s). */
  function raw(bytes: string | Buffer): Promise<string> {
    return new Promise((resolve) => {
      const socket = connectAdminTls(port, tls, () => socket.write(bytes));
      let out = '';
      socket.on('data', (d: Buffer) => (out += d.toString('latin1')));
      socket.on('error', () => {});
      socket.on('close', () => resolve(out));
      socket.setTimeout(10_000, () => socket.destroy());
    });
  }

  /** What the config looks like from outside: both lists and the store revision. */
  async function snapshot(): Promise<string> {
    const vs = await call('GET', '/v1/resources/vs');
    const dr = await call('GET', '/v1/resources/dr');
    const rev = await applyJson([], '?dryRun=true');
    expect([vs.status, dr.status, rev.status]).to.deep.equal([200, 200, 200]);
    return JSON.stringify([vs.json, dr.json, rev.json['revision']]);
  }

  /** A 4xx whose JSON error says `problem`; never a raw control character in what comes back. */
  function expectRefused(a: Answer, status: number, problem: RegExp | string): void {
    expect(a.status, a.text).to.equal(status);
    expect(a.json.error, a.text).to.be.a('string');
    const said = `${a.json.error}\n${(a.json.issues ?? []).map((i) => `${i.source ?? ''} ${i.path ?? ''}: ${i.message}`).join('\n')}`;
    if (typeof problem === 'string') expect(said).to.contain(problem);
    else expect(said).to.match(problem);
    expect(a.text).not.to.match(/[\u0000-\u001f\u007f-\u009f]/);
  }

  before(async () => {
    weftd = await startWeftd();
    port = Number(new URL(weftd.adminUrl).port);
    tls = adminTlsOf(weftd.credentialsFile);
    authLine = `authorization: ${tls.authorization}\r\n`;
    const applied = await applyJson([DR, VS]);
    expect(applied.status, applied.text).to.equal(200);
    baseline = await snapshot();
  });

  afterEach(async () => {
    expect(weftd.proc.exitCode, weftd.output()).to.equal(null);
    expect(await snapshot()).to.equal(baseline);
  });

  after(async () => {
    const log = weftd.output();
    await weftd.stop();
    // A client's mistake is not weftd's fault: nothing about it in the log, and no stack trace at all.
    expect(log).not.to.contain('admin API error');
    expect(log).not.to.match(/\n\s+at .+:\d+:\d+\)?\n/);
  });

  it('treats fields named like Object.prototype members as unknown fields, in JSON and in YAML', async () => {
    for (const field of ['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__proto__']) {
      const json = `{"resources":[{"object":{"apiVersion":"networking.istio.io/v1","kind":"DestinationRule","metadata":{"name":"x","namespace":"bookinfo"},"spec":{"host":"x",${JSON.stringify(field)}:{"host":"y"}}}}]}`;
      expectRefused(await call('POST', '/v1/apply', json, { 'content-type': 'application/json' }), 400, `spec.${field}: unknown field`);
      const yaml = `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: x\n  ${field}: {name: y}\nspec: {host: x}\n`;
      expectRefused(await call('POST', '/v1/apply', yaml, { 'content-type': YAML }), 400, `metadata.${field}: unknown field`);
    }
    const labels = '{"resources":[{"object":{"apiVersion":"networking.istio.io/v1","kind":"DestinationRule","metadata":{"name":"x","labels":{"__proto__":"a"}},"spec":{"host":"x"}}}]}';
    expectRefused(await call('POST', '/v1/apply', labels, { 'content-type': 'application/json' }), 400, 'metadata.labels.__proto__');
  });

  it('refuses host names Istio refuses, echoing them escaped and cut', async () => {
    const cases: [string, string][] = [
      ['../../etc', '"../../etc" is not a valid host name'],
      ['\u001b[31mred\u001b[0m', 'control character "\\u001b"'],
      ['\u001b]0;owned\u0007x', 'control character "\\u001b"'],
      ['h'.repeat(10_000), 'is 10000 characters long; a host name has at most 253'],
      ['*.example.com', 'wildcard hosts are not supported by Weft yet'],
    ];
    for (const [host, problem] of cases) {
      expectRefused(await applyJson([{ ...DR, spec: { host } }]), 400, problem);
      expectRefused(await applyJson([{ ...VS, spec: { hosts: [host], http: VS.spec.http } }]), 400, problem);
      expectRefused(await applyJson([{ ...VS, spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host } }] }] } }]), 400, problem);
    }
    const long = await applyJson([{ ...DR, spec: { host: 'h'.repeat(10_000) } }]);
    expect(long.text.length).to.be.below(2000);
  });

  it('answers a malformed percent-encoding, a malformed request and oversized headers with 400/431', async () => {
    expectRefused(await call('GET', '/v1/resources/vs/%E0%A4%A'), 400, 'malformed percent-encoding in path segment "%E0%A4%A"');
    expectRefused(await call('GET', '/v1/resources/vs/default/%E0%A4%A'), 400, 'malformed percent-encoding');
    expectRefused(await call('DELETE', '/v1/resources/vs/%ZZ/x'), 400, 'malformed percent-encoding in path segment "%ZZ"');
    const garbage = await raw('GARBAGE / NOT-HTTP\r\n\r\n');
    expect(garbage).to.match(/^HTTP\/1\.1 400 /).and.contain('"error":"malformed HTTP request');
    const huge = await raw(`GET /v1/services HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    expect(huge).to.match(/^HTTP\/1\.1 431 /);
  });

  it('refuses YAML alias bombs and deep nesting with 400, on apply and on delete, in JSON too', async () => {
    for (const path of ['/v1/apply', '/v1/delete']) {
      expectRefused(await call('POST', path, billionLaughs(), { 'content-type': YAML }), 400, /aliases \(\*name\) expand to more than 100 nodes/);
      expectRefused(await call('POST', path, '['.repeat(1_000_000), { 'content-type': YAML }), 400, /nested more than 64 levels deep at line 1/);
      expectRefused(await call('POST', path, `a:\n${'- '.repeat(100_000)}x\n`, { 'content-type': YAML }), 400, /nested more than 64 levels deep/);
      const deepJson = `{"resources":[{"object":${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}}]}`;
      const a = await call('POST', path, deepJson, { 'content-type': 'application/json' });
      expect(a.status, a.text).to.equal(400);
    }
    expectRefused(await call('POST', '/v1/apply', `{"resources":${'['.repeat(500_000)}${']'.repeat(500_000)}}`, { 'content-type': 'application/json' }), 400, 'resources[0] must be');
  });

  it('refuses numbers out of range, however they are written', async () => {
    const withWeight = (weight: string) =>
      `{"resources":[{"object":{"apiVersion":"networking.istio.io/v1","kind":"VirtualService","metadata":{"name":"n","namespace":"bookinfo"},"spec":{"hosts":["n"],"http":[{"route":[{"destination":{"host":"n","port":{"number":80}},"weight":${weight}}]}]}}}]}`;
    for (const [weight, problem] of [['1e400', 'must be an integer, got Infinity'], ['1e300', 'must be at most 2147483647'], ['9007199254740993', 'must be at most 2147483647'], ['-1', 'must be at least 0'], ['0.5', 'must be an integer']]) {
      expectRefused(await call('POST', '/v1/apply', withWeight(weight!), { 'content-type': 'application/json' }), 400, problem!);
    }
    const yaml = `apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: n}\nspec:\n  hosts: [n]\n  http:\n  - route:\n    - destination: {host: n, port: {number: 99999999999999999999999}}\n      weight: .inf\n`;
    const a = await call('POST', '/v1/apply', yaml, { 'content-type': YAML });
    expectRefused(a, 400, 'port.number: must be at most 65535');
    expectRefused(a, 400, 'weight: must be an integer, got Infinity');
  });

  it('answers wrong content types (415), bad JSON and wrong shapes (400), and bodies that are not UTF-8 (400)', async () => {
    expectRefused(await call('POST', '/v1/apply', '<html/>', { 'content-type': 'text/html' }), 415, 'content type "text/html" is not supported');
    expectRefused(await call('POST', '/v1/apply', 'a=b', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'curl -d');
    expectRefused(await call('POST', '/v1/apply', '{}', { 'content-type': 'application/json; charset=latin1' }), 415, 'charset "latin1"');
    expectRefused(await call('POST', '/v1/apply', '{"resources": [', { 'content-type': 'application/json' }), 400, 'bad JSON');
    expectRefused(await call('POST', '/v1/apply', JSON.stringify(DR), { 'content-type': 'application/json' }), 400, 'use Content-Type: application/yaml');
    expectRefused(await call('POST', '/v1/apply', '{"resources":{}}', { 'content-type': 'application/json' }), 400, '"resources" must be a list');
    expectRefused(await call('POST', '/v1/apply', '{"resources":[],"extra":1}', { 'content-type': 'application/json' }), 400, 'unknown field "extra"');
    expectRefused(await call('POST', '/v1/apply', '{"resources":[null]}', { 'content-type': 'application/json' }), 400, 'resources[0] must be');
    expectRefused(await call('POST', '/v1/apply', '{"resources":[{"object":{},"source":7}]}', { 'content-type': 'application/json' }), 400, 'resources[0].source must be a string');
    expectRefused(await call('POST', '/v1/apply', 'null', { 'content-type': 'application/json' }), 400, 'a JSON body must be');
    expectRefused(await call('POST', '/v1/apply', Buffer.from([0x6b, 0x69, 0x6e, 0x64, 0x3a, 0x20, 0xff, 0xfe]), { 'content-type': YAML }), 400, 'not valid UTF-8');
  });

  it('answers bad query parameters with 400 naming them', async () => {
    expectRefused(await applyJson([], '?dryRun=yes'), 400, 'dryRun must be true or false, got "yes"');
    expectRefused(await applyJson([DR], '?namespce=bookinfo'), 400, 'unknown query parameter "namespce"; /v1/apply takes namespace, dryRun');
    expectRefused(await applyJson([DR], '?namespace=Bad_NS'), 400, 'query parameter namespace "Bad_NS" is not a valid namespace');
    expectRefused(await applyJson([], '?dryRun=true&dryRun=false'), 400, 'dryRun given more than once');
    expectRefused(await call('GET', '/v1/resources/vs?namespace=%1B%5B31m'), 400, '"\\u001b[31m" is not a valid namespace');
    expectRefused(await call('GET', '/v1/services?verbose=1'), 400, 'unknown query parameter "verbose"; /v1/services takes none');
    expectRefused(await call('GET', '/v1/resources/vs/bookinfo/reviews?namespace=x'), 400, 'unknown query parameter "namespace"');
  });

  it('answers wrong methods with 405 and Allow, unknown paths and kinds with 404, bad names with 400', async () => {
    const put = await call('PUT', '/v1/apply', '{}');
    expectRefused(put, 405, 'method PUT not allowed on /v1/apply; use POST');
    expect(put.headers['allow']).to.equal('POST');
    expect((await call('DELETE', '/v1/services')).headers['allow']).to.equal('GET');
    expect((await call('POST', '/v1/resources/vs')).status).to.equal(405);
    expectRefused(await call('PATCH', '/v1/resources/vs/bookinfo/reviews'), 405, 'use GET or DELETE');
    expectRefused(await call('GET', '/v1/nope'), 404, 'no such path /v1/nope');
    expectRefused(await call('GET', '/v2/services'), 404, 'no such path /v2/services');
    expectRefused(await call('GET', '/v1//services'), 404, 'empty segment');
    expectRefused(await call('GET', '/v1/resources/gateways'), 404, 'unknown kind "gateways"');
    expectRefused(await call('GET', '/v1/resources/__proto__'), 404, 'unknown kind "__proto__"');
    expectRefused(await call('GET', '/v1/resources/vs/bookinfo'), 404, 'use /v1/resources/{kind}');
    expectRefused(await call('GET', '/v1/resources/vs/Bad_NS/reviews'), 400, 'namespace "Bad_NS" is not a valid namespace');
    expectRefused(await call('DELETE', '/v1/resources/vs/bookinfo/%1B%5B2J'), 400, 'name "\\u001b[2J" is not a valid resource name');
    expectRefused(await call('GET', '/v1/resources/vs/bookinfo/nope'), 404, 'not found');
    // A trailing slash names the same resource as without.
    const trailing = await call('GET', '/v1/resources/vs/bookinfo/reviews/');
    expect(trailing.status).to.equal(200);
    expect((await call('GET', '/v1/services/')).status).to.equal(200);
  });

  it('answers unknown kinds in a manifest with 400 listing each, and applies nothing of the batch', async () => {
    const a = await applyJson([{ ...DR, metadata: { name: 'other', namespace: 'bookinfo' } }, { apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: { name: 'g' }, spec: {} }]);
    expectRefused(a, 400, 'unsupported kind "Gateway"');
  });

  it('refuses an oversized body with 413, whether declared (the connection then closes) or streamed (drained first, so the client reads the answer)', async () => {
    const declared = await raw(`POST /v1/apply HTTP/1.1\r\nhost: x\r\n${authLine}content-type: ${YAML}\r\ncontent-length: ${MAX_ADMIN_BODY_BYTES + 1}\r\n\r\n`);
    expect(declared).to.match(/^HTTP\/1\.1 413 /).and.match(/connection: close/i).and.contain('larger than the limit');
    // A client that goes on sending after the server has decided may see its connection reset instead
    // of the answer (RFC 9112 §9.6 lets a server close); weftd drains to make the answer the rule, and
    // either way nothing is stored and weftd goes on answering.
    const streamed = await new Promise<Answer | 'reset'>((resolve, reject) => {
      let answered = false;
      const options = { host: '127.0.0.1', port, method: 'POST', path: '/v1/apply', headers: { 'content-type': YAML, authorization: tls.authorization }, agent: false, ca: tls.ca, checkServerIdentity: tls.checkServerIdentity };
      const req = httpsRequest(options, (res) => {
        answered = true;
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: JSON.parse(text) as Answer['json'] });
        });
      });
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (answered) return;
        if (e.code === 'EPIPE' || e.code === 'ECONNRESET') resolve('reset');
        else reject(e);
      });
      const chunk = Buffer.alloc(256 * 1024, 'a');
      let sent = 0;
      const pump = () => {
        // Chunked, so nothing is declared; bounded at twice the limit even if weftd never answered.
        while (!answered && sent <= MAX_ADMIN_BODY_BYTES * 2 && req.write(chunk)) sent += chunk.length;
        if (answered) return;
        if (sent <= MAX_ADMIN_BODY_BYTES * 2) req.once('drain', pump);
        else req.end();
      };
      pump();
    });
    if (streamed !== 'reset') expectRefused(streamed, 413, 'larger than the limit');
    expect((await call('GET', '/v1/resources/dr?namespace=bookinfo')).status).to.equal(200);
  });

  it('keeps answering while clients hold half-sent requests open, and many silent connections (no TLS handshake) at once', async () => {
    const stalled: Socket[] = [];
    try {
      // Each half request is written once its TLS handshake is done, and all are held before the calls.
      const halves = Array.from({ length: 50 }, (_, i) =>
        i % 2 === 0
          ? `POST /v1/apply HTTP/1.1\r\nhost: x\r\n${authLine}content-type: ${YAML}\r\ncontent-length: 1000\r\n\r\napiVersion: networking`
          : 'GET /v1/services HTTP/1.1\r\nhost: x\r\n',
      );
      await Promise.all(
        halves.map(
          (half) =>
            new Promise<void>((resolve, reject) => {
              const s = connectAdminTls(port, tls, () => s.write(half, () => resolve()));
              s.on('error', reject);
              stalled.push(s);
            }),
        ),
      );
      // Connected and silent: weftd waits for a TLS ClientHello that never comes.
      for (let i = 0; i < 200; i++) {
        const s = connect(port, '127.0.0.1');
        s.on('error', () => {});
        stalled.push(s);
      }
      const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? call('GET', '/v1/resources/vs') : applyJson([DR, VS], '?dryRun=true'))));
      expect(answers.map((a) => a.status)).to.deep.equal(Array(200).fill(200));
      expect(answers.filter((a) => a.json['results']).every((a) => JSON.stringify(a.json['results']).includes('"unchanged"'))).to.equal(true);
    } finally {
      for (const s of stalled) s.destroy();
    }
  });
});
