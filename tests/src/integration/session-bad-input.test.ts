// What a broken or hostile client can send to weftd's session port: garbage (before TLS and inside
// it), HTTP/1.1, plaintext HTTP/2 and gRPC to a TLS port, silence, streams without Hello, malformed
// and oversized protobuf, messages out of order, and more connections, streams and sessions than the
// limits allow. After each, weftd is still up and a proper session still works (expectHealthy).
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { adminFetch, startWeftd, type WeftdHandle } from '../support/weftd.js';
import { expectHealthy, RawFrames, RawSession, SESSION_SERVER_NAME, sleep, waitUntil } from './session-fixtures.js';

const HANDSHAKE_MS = 1000;

/** Opens a TCP connection to `address`; resolves once connected. */
function connect(address: string): Promise<net.Socket> {
  const [host, port] = splitAddress(address);
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host, () => resolve(socket));
    socket.once('error', reject);
    socket.resume(); // read (and drop) what weftd sends, so that its closing the connection is seen
  });
}

/** Opens a TLS connection to weftd's session port (trusting its ca.pem) with `alpn`; resolves once the handshake is done. */
function connectTls(weftd: WeftdHandle, alpn: string[] | undefined): Promise<tls.TLSSocket> {
  const [host, port] = splitAddress(weftd.grpcAddress);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port, ca: readFileSync(weftd.caFile), servername: SESSION_SERVER_NAME, ALPNProtocols: alpn, checkServerIdentity: () => undefined }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** What weftd wrote on `socket` until it closed it (bounded by `ms`). */
function readUntilClosed(socket: net.Socket, ms: number): Promise<string> {
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  return within(ms, 'weftd to close the connection', closed(socket)).then(() => text);
}

function splitAddress(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i), Number(address.slice(i + 1))];
}

function closed(socket: net.Socket): Promise<void> {
  return socket.destroyed ? Promise.resolve() : new Promise((resolve) => socket.once('close', () => resolve()));
}

async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A protobuf length-delimited field: tag byte, varint length, bytes. */
function field(tag: number, body: Buffer): Buffer {
  const len: number[] = [];
  let n = body.length;
  do {
    len.push((n & 0x7f) | (n >= 0x80 ? 0x80 : 0));
    n >>>= 7;
  } while (n > 0);
  return Buffer.concat([Buffer.from([tag, ...len]), body]);
}

describe('session port: bad input', function () {
  this.timeout(20_000);
  let weftd: WeftdHandle;
  const sockets: net.Socket[] = [];
  const sessions: { close(): void }[] = [];

  // A long keepalive, so that only the handshake deadline can close a silent connection (with a short
  // one, weftd's keepalive ping finds an unresponsive peer too).
  before(async () => (weftd = await startWeftd({ args: ['--handshake-timeout', `${HANDSHAKE_MS}ms`, '--keepalive', '30s'] })));
  after(async () => weftd?.stop());
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    for (const s of sessions.splice(0)) s.close();
    await expectHealthy(weftd);
  });

  it('closes a connection that sends garbage bytes, before TLS and inside it', async () => {
    const socket = await connect(weftd.grpcAddress);
    sockets.push(socket);
    socket.on('error', () => undefined);
    socket.write(randomBytes(4096));
    await within(3000, 'weftd to close the connection', closed(socket));

    // Past the handshake, garbage reaches HTTP/2, which closes the connection too.
    const inside = await connectTls(weftd, ['h2']);
    sockets.push(inside);
    inside.on('error', () => undefined);
    inside.resume();
    expect(inside.alpnProtocol).to.equal('h2');
    inside.write(randomBytes(4096));
    await within(3000, 'weftd to close the TLS connection', closed(inside));
  });

  it('closes a connection that speaks HTTP/1.1, in plaintext or in TLS', async () => {
    const socket = await connect(weftd.grpcAddress);
    sockets.push(socket);
    socket.on('error', () => undefined);
    socket.write('POST /weft.v1.ControlPlane/Session HTTP/1.1\r\nHost: weftd\r\nContent-Length: 5\r\n\r\nhello');
    await within(3000, 'weftd to close the connection', closed(socket));

    // A TLS client that offers only http/1.1 is refused in the handshake (ALPN: no protocol in common).
    const refused = await connectTls(weftd, ['http/1.1']).then(
      (s) => (sockets.push(s), 'connected'),
      (e: Error) => e.message,
    );
    expect(refused).to.match(/no application protocol/);
    // One that offers none gets HTTP/2's answer to an HTTP/1 client, and the connection is closed.
    const noAlpn = await connectTls(weftd, undefined);
    sockets.push(noAlpn);
    noAlpn.on('error', () => undefined);
    noAlpn.write('GET / HTTP/1.1\r\nHost: weftd\r\n\r\n');
    expect(await readUntilClosed(noAlpn, 3000)).to.match(/^HTTP\/1\.[01] 403/);
  });

  it('closes TCP connections that never start TLS, and TLS connections that never send the HTTP/2 preface, after the handshake timeout', async () => {
    const silent = await Promise.all(Array.from({ length: 100 }, () => connect(weftd.grpcAddress)));
    const silentTls = await Promise.all(Array.from({ length: 20 }, () => connectTls(weftd, ['h2'])));
    sockets.push(...silent, ...silentTls);
    for (const s of [...silent, ...silentTls]) s.on('error', () => undefined);
    for (const s of silentTls) s.resume();
    await within(HANDSHAKE_MS + 3000, 'weftd to close 120 silent connections', Promise.all([...silent, ...silentTls].map(closed)));
  });

  it('closes an HTTP/2 connection over TLS that opens no session', async () => {
    const client = http2.connect(`https://${weftd.grpcAddress}`, { ca: readFileSync(weftd.caFile), servername: SESSION_SERVER_NAME, checkServerIdentity: () => undefined });
    client.on('error', () => undefined);
    sessions.push({ close: () => client.destroy() });
    await within(HANDSHAKE_MS + 3000, 'weftd to close the idle HTTP/2 connection', new Promise<void>((resolve) => client.once('close', () => resolve())));
  });

  it('closes a plaintext HTTP/2 connection at once: the port speaks TLS only', async () => {
    const client = http2.connect(`http://${weftd.grpcAddress}`);
    client.on('error', () => undefined);
    let spoke = false;
    client.once('remoteSettings', () => (spoke = true));
    sessions.push({ close: () => client.destroy() });
    const took = Date.now();
    await within(3000, 'weftd to close the plaintext HTTP/2 connection', new Promise<void>((resolve) => client.once('close', () => resolve())));
    expect(Date.now() - took).to.be.lessThan(HANDSHAKE_MS); // refused by TLS, not by the handshake deadline
    expect(spoke, 'weftd sent HTTP/2 SETTINGS without TLS').to.equal(false);
  });

  it('fails a gRPC client without TLS (insecure credentials) with UNAVAILABLE, and serves the others', async () => {
    const good = new RawSession(weftd.grpcAddress);
    sessions.push(good);
    good.hello('beside-plaintext-1', { service: 'ratings' });
    await good.waitFor('config');
    const plain = new RawSession(weftd.grpcAddress, { plaintext: true, ownConnection: true });
    sessions.push(plain);
    plain.hello('plaintext-1');
    const e = await plain.waitForError(5000);
    // All the client learns: no connection (weftd cannot answer a plaintext peer in its own words).
    expect(e.code).to.equal(grpc.status.UNAVAILABLE);
    expect(e.details).to.contain('No connection established');
    expect(plain.received).to.deep.equal([]);
    good.send({ subscribe: { hosts: ['ratings'] } });
    await good.waitFor('endpoints');
    expect(good.error).to.equal(undefined);
  });

  it('ends streams that never say Hello with DEADLINE_EXCEEDED naming the flag', async () => {
    const silent = Array.from({ length: 50 }, () => new RawSession(weftd.grpcAddress));
    sessions.push(...silent);
    const errors = await Promise.all(silent.map((s) => s.waitForError(HANDSHAKE_MS + 3000)));
    for (const e of errors) {
      expect(e.code).to.equal(grpc.status.DEADLINE_EXCEEDED);
      expect(e.details).to.contain('no hello within 1000 ms').and.contain('--handshake-timeout');
    }
  });

  it('ends a stream whose message is not valid protobuf, and nothing else', async () => {
    const payloads = [
      Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), // a length past the end
      Buffer.from([0x0a, 0x05, 0x01]), // a field cut short
      Buffer.from([0x0f, 0x01]), // wire type 7 does not exist
      field(0x0a, field(0x0a, Buffer.from([0x12, 0x03, 0xff, 0xfe, 0xfd]))), // hello.workload.instance_id: invalid UTF-8
    ];
    const bystander = new RawSession(weftd.grpcAddress);
    sessions.push(bystander);
    bystander.hello('bystander-1', { service: 'ratings' });
    await bystander.waitFor('config');
    for (const payload of payloads) {
      const raw = new RawFrames(weftd.grpcAddress);
      sessions.push(raw);
      raw.write(payload);
      const e = await raw.waitForError(3000);
      expect(e.code, `${payload.toString('hex')}: ${e.message}`).to.not.equal(grpc.status.OK);
    }
    expect(bystander.error).to.equal(undefined);
  });

  it('refuses a message larger than the receive limit with RESOURCE_EXHAUSTED', async () => {
    const raw = new RawFrames(weftd.grpcAddress);
    sessions.push(raw);
    raw.write(field(0x1a, field(0x0a, Buffer.alloc(5 * 1024 * 1024, 0x61)))); // subscribe with one 5 MiB host
    const e = await raw.waitForError(5000);
    expect(e.code).to.equal(grpc.status.RESOURCE_EXHAUSTED);
  });

  it('refuses messages out of order, and a message that sets nothing', async () => {
    const early = new RawSession(weftd.grpcAddress);
    sessions.push(early);
    early.register([{ port: 4000 }]);
    const e1 = await early.waitForError();
    expect(e1.code).to.equal(grpc.status.INVALID_ARGUMENT);
    expect(e1.details).to.contain('the first message of a session must be hello, got register');

    const twice = new RawSession(weftd.grpcAddress);
    sessions.push(twice);
    twice.hello('twice-1');
    twice.hello('twice-1');
    const e2 = await twice.waitForError();
    expect(e2.code).to.equal(grpc.status.INVALID_ARGUMENT);
    expect(e2.details).to.contain('hello was already received');

    const empty = new RawSession(weftd.grpcAddress);
    sessions.push(empty);
    empty.send({});
    const e3 = await empty.waitForError();
    expect(e3.code).to.equal(grpc.status.INVALID_ARGUMENT);

    // An ACK of a nonce never sent is ignored: the session goes on.
    const stray = new RawSession(weftd.grpcAddress);
    sessions.push(stray);
    stray.hello('stray-1', { service: 'details' });
    await stray.waitFor('config');
    stray.send({ ack: { type: 'config', version: '999', nonce: 'never-sent', error: 'x'.repeat(100_000) } });
    stray.send({ subscribe: { hosts: ['ratings'] } });
    await stray.waitFor('endpoints');
    expect(stray.error).to.equal(undefined);
  });

  it('refuses bad subscribed host names and oversized Hello fields, naming the field', async () => {
    const cases: [object, RegExp][] = [
      [{ subscribe: { hosts: ['../../etc'] } }, /subscribe\.hosts\[0\] "\.\.\/\.\.\/etc" is not a DNS name/],
      [{ subscribe: { hosts: ['evil\u001b[2J.com'] } }, /is not a DNS name/],
      [{ subscribe: { hosts: ['h'.repeat(10_000)] } }, /10000 characters, at most 253/],
    ];
    for (const [msg, expected] of cases) {
      const s = new RawSession(weftd.grpcAddress);
      sessions.push(s);
      s.hello(`hosts-${sessions.length}`, { service: 'details' });
      s.send(msg);
      const e = await s.waitForError();
      expect(e.code).to.equal(grpc.status.INVALID_ARGUMENT);
      expect(e.details).to.match(expected);
      expect(e.details.length).to.be.lessThan(500);
    }
  });
});

describe('session port: per-peer limits', function () {
  this.timeout(20_000);
  let weftd: WeftdHandle | undefined;
  const sessions: RawSession[] = [];
  afterEach(async () => {
    for (const s of sessions.splice(0)) s.close();
    try {
      if (weftd) await expectHealthy(weftd);
    } finally {
      // Stopped even when the health check fails: a weftd left running outlives the test run.
      await weftd?.stop();
      weftd = undefined;
    }
  });

  const open = (opts: { ownConnection?: boolean } = {}) => {
    const s = new RawSession(weftd!.grpcAddress, opts);
    sessions.push(s);
    return s;
  };

  it('refuses a stream beyond --max-streams-per-connection with RESOURCE_EXHAUSTED', async () => {
    weftd = await startWeftd({ args: ['--max-streams-per-connection', '3'] });
    const within = [open(), open(), open()]; // one process, one address: grpc-js shares the connection
    within.forEach((s, i) => s.hello(`streams-${i}`));
    await Promise.all(within.map((s) => s.waitFor('welcome')));
    const extra = open();
    extra.hello('streams-3');
    const e = await extra.waitForError();
    expect(e.code).to.equal(grpc.status.RESOURCE_EXHAUSTED);
    expect(e.details).to.contain('--max-streams-per-connection 3');
    for (const s of within) expect(s.error).to.equal(undefined);
  });

  it('refuses a connection beyond --max-connections-per-peer with RESOURCE_EXHAUSTED', async () => {
    weftd = await startWeftd({ args: ['--max-connections-per-peer', '3'] });
    const accepted: RawSession[] = [];
    let refused: grpc.ServiceError | undefined;
    for (let i = 0; i < 5 && !refused; i++) {
      const s = open({ ownConnection: true });
      s.hello(`conn-${i}`);
      await Promise.race([s.waitFor('welcome').then(() => accepted.push(s)), s.waitForError().then((e) => (refused = e))]).catch(() => undefined);
    }
    expect(accepted.length).to.equal(3);
    expect(refused?.code).to.equal(grpc.status.RESOURCE_EXHAUSTED);
    expect(refused?.details).to.contain('already holds 3 connections').and.contain('--max-connections-per-peer 3');
    for (const s of accepted) expect(s.error).to.equal(undefined);
    // Closing one makes room again (once weftd has seen the socket close).
    sessions.splice(sessions.indexOf(accepted[0]!), 1)[0]!.close();
    for (const s of sessions.filter((x) => !accepted.includes(x))) s.close();
    await sleep(200);
  });

  it('refuses a session beyond --max-sessions with RESOURCE_EXHAUSTED', async () => {
    weftd = await startWeftd({ args: ['--max-sessions', '4'] });
    const held = [open(), open(), open()];
    held.forEach((s, i) => s.hello(`sessions-${i}`));
    await Promise.all(held.map((s) => s.waitFor('welcome')));
    const fourth = open();
    fourth.hello('sessions-3');
    await fourth.waitFor('welcome');
    const fifth = open();
    fifth.hello('sessions-4');
    const e = await fifth.waitForError();
    expect(e.code).to.equal(grpc.status.RESOURCE_EXHAUSTED);
    expect(e.details).to.contain('--max-sessions 4');
    fourth.close(); // room for the health check
    await waitUntil(async () => ((await (await adminFetch(`${weftd!.adminUrl}/v1/sessions`)).json()) as { sessions: unknown[] }).sessions.length < 4, 3000, 'the session to end');
  });
});
