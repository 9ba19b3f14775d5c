// Helpers for the session-port tests: a raw session with grpc-js's own client (so a test can send
// what the SDK never would), raw frames written with an identity serializer, a bounded wait, the
// check that weftd still serves a proper session after whatever a test did to it, and a TCP proxy
// that can silence its connections (a network partition).
//
// The session port is TLS: a raw client trusts the roots of weftd's <data-dir>/ca.pem and accepts
// weftd by its SPIFFE ID (as the SDK does), not by a host name. Registering endpoints needs a proven
// identity, so a session that registers either presents a client certificate of the mesh CA, signed
// here with the CA of weftd's data dir (read, never written), or enrols in the protocol with a join
// token (RawSession.enrol), as the SDK does.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, join } from 'node:path';
import type { PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { ControlPlaneClient, isWeftdSpiffeId, type CertificateMsg, type SessionResponseMsg } from '@weft/api';
import { CertificateAuthority, createWorkloadKey, TRUST_BUNDLE_FILE, TrustBundle } from '@weft/ca';
import { adminFetch, caFileOf, type WeftdHandle } from '../support/weftd.js';

type Duplex<Req, Res> = grpc.ClientDuplexStream<Req, Res>;

/** A namespace and service account: what a Hello claims and a certificate proves. */
export interface Identity {
  namespace: string;
  serviceAccount: string;
}

/** What RawSession.hello says when told nothing else, and the identity a proven session holds by default. */
export const DEFAULT_IDENTITY: Identity = { namespace: 'bookinfo', serviceAccount: 'sa' };

/** A client certificate (leaf, then the CA chain) and its key, PEM. */
export interface ClientCertificate {
  keyPem: string;
  chainPem: string;
  spiffeId: string;
}

/**
 * The CA that signs in weftd's data dir (the active root of <data-dir>/ca/trust-bundle.json), loaded
 * read-only: a test signs with it what weftd would sign for a workload that proved `id`.
 */
export function meshAuthorityOf(grpcAddress: string): CertificateAuthority {
  const dir = join(dirname(caFileOf(grpcAddress)), 'ca');
  const bundlePath = join(dir, TRUST_BUNDLE_FILE);
  const bundle = TrustBundle.fromJSON(JSON.parse(readFileSync(bundlePath, 'utf8')), bundlePath);
  const files = `${join(dir, 'root-')}${bundle.activeFingerprint.slice(0, 16)}`;
  return CertificateAuthority.fromPem({ cert: readFileSync(`${files}-cert.pem`, 'utf8'), key: readFileSync(`${files}-key.pem`, 'utf8'), trustDomain: bundle.trustDomain });
}

/**
 * A certificate for spiffe://<td>/ns/<namespace>/sa/<serviceAccount> signed by `authority` (weftd's:
 * meshAuthorityOf; another: a foreign CA). `notAfter` in the past makes an expired one (its lifetime,
 * 60 s, ends then).
 */
export function signClientCertificate(authority: CertificateAuthority, id: Identity, opts: { notAfter?: Date } = {}): ClientCertificate {
  const key = createWorkloadKey();
  const spiffeId = `spiffe://${authority.trustDomain}/ns/${id.namespace}/sa/${id.serviceAccount}`;
  const signOptions = opts.notAfter ? { now: new Date(opts.notAfter.getTime() - 60_000), ttlSeconds: 60 } : {};
  const issued = authority.signCsr(key.csrPem, spiffeId, signOptions);
  return { keyPem: key.privateKeyPem, chainPem: issued.chainPem, spiffeId };
}

/** Accepts the server only as weftd (its SPIFFE ID; the chain is checked by OpenSSL against ca.pem). */
function checkWeftdIdentity(_host: string, cert: PeerCertificate): Error | undefined {
  const uris = String(cert.subjectaltname ?? '').split(', ').filter((n) => n.startsWith('URI:')).map((n) => n.slice(4));
  return uris.length === 1 && isWeftdSpiffeId(uris[0]!) ? undefined : new Error(`the session port's certificate names ${uris.join(', ') || 'no URI'}, not weftd's SPIFFE ID`);
}

/**
 * Credentials are made once per (weftd, client certificate): grpc-js shares a connection among the
 * clients of one address only when their credentials are the same object, and some tests rely on
 * that sharing (streams per connection).
 */
const credentialsCache = new Map<string, grpc.ChannelCredentials>();
const certificateIds = new WeakMap<ClientCertificate, number>();
const provenCertificates = new Map<string, ClientCertificate>();
let certificateSeq = 0;

/** The mesh CA's certificate for `id` on the weftd at `grpcAddress`, made once per test process. */
export function meshCertificate(grpcAddress: string, id: Identity): ClientCertificate {
  const key = `${caFileOf(grpcAddress)}|${id.namespace}|${id.serviceAccount}`;
  let cert = provenCertificates.get(key);
  if (!cert) provenCertificates.set(key, (cert = signClientCertificate(meshAuthorityOf(grpcAddress), id)));
  return cert;
}

/** TLS credentials for weftd's session port, trusting its ca.pem, presenting `client` when given. */
export function sessionCredentials(grpcAddress: string, client?: ClientCertificate): grpc.ChannelCredentials {
  const caFile = caFileOf(grpcAddress);
  let certId = 0;
  if (client) {
    certId = certificateIds.get(client) ?? ++certificateSeq;
    certificateIds.set(client, certId);
  }
  const key = `${caFile}|${certId}`;
  let creds = credentialsCache.get(key);
  if (!creds) {
    const roots = readFileSync(caFile);
    creds = client
      ? grpc.credentials.createSsl(roots, Buffer.from(client.keyPem), Buffer.from(client.chainPem), { checkServerIdentity: checkWeftdIdentity })
      : grpc.credentials.createSsl(roots, null, null, { checkServerIdentity: checkWeftdIdentity });
    credentialsCache.set(key, creds);
  }
  return creds;
}

/**
 * The TLS server name a raw client sends. weftd's certificate is checked by its SPIFFE ID, so the
 * name matters to nobody; it is set because grpc-js would otherwise send the IP address, which SNI
 * does not allow (Node warns).
 */
export const SESSION_SERVER_NAME = 'weftd';

export interface RawSessionOptions {
  /** Own TCP connection instead of the one grpc-js shares among same-address clients of a process. */
  ownConnection?: boolean;
  /** The client's receive limit (grpc-js's default is 4 MiB, as an SDK from before limits.ts had). */
  receiveLimit?: number;
  /**
   * Presents the mesh CA's certificate for this identity (so the session may register endpoints),
   * and makes it what hello says by default. Without it and without `clientCertificate` the session
   * proves nothing (it may watch config and subscribe, not register).
   */
  identity?: Identity;
  /** Presents this certificate instead (a foreign CA's, an expired one). */
  clientCertificate?: ClientCertificate;
  /** grpc's insecure credentials: plaintext HTTP/2 to the TLS port. */
  plaintext?: boolean;
  /** Opens the stream on that session's channel (the same TCP connection) instead of a new one: see reopen(). */
  sameChannelAs?: RawSession;
}

let requestSeq = 0;

/** A Session stream opened with grpc-js's client; messages are plain objects in proto-loader's shape. */
export class RawSession {
  readonly received: SessionResponseMsg[] = [];
  error: grpc.ServiceError | undefined;
  ended = false;
  /** The channel, shared with the streams reopen() made; closed with the last of them. */
  private readonly channel: { client: grpc.Client; streams: number };
  private closed = false;
  private readonly call: Duplex<object, SessionResponseMsg>;
  private readonly identity: Identity;

  constructor(
    readonly address: string,
    opts: RawSessionOptions = {},
  ) {
    const sameChannelAs = opts.sameChannelAs;
    this.identity = opts.identity ?? sameChannelAs?.identity ?? DEFAULT_IDENTITY;
    if (sameChannelAs) {
      this.channel = sameChannelAs.channel;
    } else {
      const channelOptions: grpc.ChannelOptions = { 'grpc.ssl_target_name_override': SESSION_SERVER_NAME };
      if (opts.ownConnection) channelOptions['grpc.use_local_subchannel_pool'] = 1;
      if (opts.receiveLimit !== undefined) channelOptions['grpc.max_receive_message_length'] = opts.receiveLimit;
      const client = opts.clientCertificate ?? (opts.identity ? meshCertificate(address, opts.identity) : undefined);
      const credentials = opts.plaintext ? grpc.credentials.createInsecure() : sessionCredentials(address, client);
      this.channel = { client: new ControlPlaneClient(address, credentials, channelOptions), streams: 0 };
    }
    this.channel.streams++;
    this.call = (this.channel.client as unknown as { Session(): Duplex<object, SessionResponseMsg> }).Session();
    this.call.on('data', (m: SessionResponseMsg) => this.received.push(m));
    this.call.on('error', (e: grpc.ServiceError) => (this.error = e));
    this.call.on('end', () => (this.ended = true));
  }

  /** Another Session stream on this one's channel (the same TCP connection while it lasts); it outlives this one's close(). */
  reopen(): RawSession {
    return new RawSession(this.address, { sameChannelAs: this });
  }

  send(msg: object): void {
    this.call.write(msg);
  }

  hello(
    instanceId: string,
    over: { service?: string; namespace?: string; labels?: Record<string, string>; resume?: boolean; acceptsSplitEndpoints?: boolean; acceptsConfigDeltas?: boolean; workloadName?: string; serviceAccount?: string } = {},
  ): void {
    const { service = 'reviews', namespace = this.identity.namespace, labels = {}, resume = false, acceptsSplitEndpoints = false, acceptsConfigDeltas, workloadName = `${service}-w`, serviceAccount = this.identity.serviceAccount } = over;
    const flags = acceptsConfigDeltas === undefined ? {} : { acceptsConfigDeltas };
    this.send({ hello: { workload: { instanceId, service, namespace, labels, serviceAccount, workloadName }, sdkVersion: 'test', resume, acceptsSplitEndpoints, ...flags } });
  }

  register(endpoints: { address?: string; port: number; protocol?: string; servicePort?: number; mtls?: boolean }[]): void {
    this.send({ register: { endpoints: endpoints.map((e) => ({ address: '127.0.0.1', protocol: 'http', servicePort: 9080, ...e })) } });
  }

  /**
   * Proves the Hello's identity with a join token, as the SDK's first certificate request does (a
   * fresh key, its CSR, the token); resolves with the certificate weftd signed. From then on this
   * session, and later ones on its connection, may register endpoints.
   */
  async enrol(token: string, timeoutMs = 5000): Promise<CertificateMsg> {
    const requestId = `enrol-${++requestSeq}`;
    this.send({ certificateRequest: { requestId, csrPem: createWorkloadKey().csrPem, token, currentChainPem: '', proof: Buffer.alloc(0) } });
    return (await this.waitFor('certificate', (m) => m.certificate.requestId === requestId, timeoutMs)).certificate;
  }

  /** Waits (bounded) for a received message of `kind` matching `pred`; returns it. */
  async waitFor<K extends SessionResponseMsg['kind']>(kind: K, pred: (m: Extract<SessionResponseMsg, { kind: K }>) => boolean = () => true, timeoutMs = 5000): Promise<Extract<SessionResponseMsg, { kind: K }>> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.received.find((m): m is Extract<SessionResponseMsg, { kind: K }> => m.kind === kind && pred(m as Extract<SessionResponseMsg, { kind: K }>));
      if (found) return found;
      if (this.error) throw new Error(`session failed: ${this.error.message}`);
      await sleep(10);
    }
    throw new Error(`no ${kind} message within ${timeoutMs} ms; got ${JSON.stringify(this.received.map((m) => m.kind))}`);
  }

  async waitForError(timeoutMs = 5000): Promise<grpc.ServiceError> {
    const deadline = Date.now() + timeoutMs;
    while (!this.error && Date.now() < deadline) await sleep(10);
    if (!this.error) throw new Error(`no error within ${timeoutMs} ms`);
    return this.error;
  }

  /** Ends the stream, and the channel when no other stream uses it. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.call.cancel();
    if (--this.channel.streams === 0) this.channel.client.close();
  }
}

/** A Session stream whose messages are written as raw bytes: what a broken or hostile client sends. */
export class RawFrames {
  error: grpc.ServiceError | undefined;
  private readonly client: grpc.Client;
  private readonly call: Duplex<Buffer, Buffer>;

  constructor(address: string) {
    this.client = new grpc.Client(address, sessionCredentials(address), { 'grpc.max_send_message_length': -1, 'grpc.ssl_target_name_override': SESSION_SERVER_NAME });
    const identity = (b: Buffer) => b;
    this.call = this.client.makeBidiStreamRequest('/weft.v1.ControlPlane/Session', identity, identity);
    this.call.on('data', () => undefined);
    this.call.on('error', (e: grpc.ServiceError) => (this.error = e));
  }

  write(bytes: Buffer): void {
    this.call.write(bytes);
  }

  async waitForError(timeoutMs = 5000): Promise<grpc.ServiceError> {
    const deadline = Date.now() + timeoutMs;
    while (!this.error && Date.now() < deadline) await sleep(10);
    if (!this.error) throw new Error(`no error within ${timeoutMs} ms`);
    return this.error;
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 10 ms; fails after `timeoutMs` naming `what`. Returns the time it took. */
export async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const start = Date.now();
  for (let i = 0; i < 100_000; i++) {
    if (await cond()) return Date.now() - start;
    if (Date.now() - start > timeoutMs) break;
    await sleep(10);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

let healthySeq = 0;

/**
 * weftd is up: its admin API answers, and a proper session (with a client certificate) is welcomed,
 * gets the config snapshot, registers an endpoint and sees it in its own subscription.
 */
export async function expectHealthy(weftd: WeftdHandle): Promise<void> {
  expect(weftd.proc.exitCode, `weftd exited:\n${weftd.output()}`).to.equal(null);
  const res = await adminFetch(`${weftd.adminUrl}/healthz`, { credential: false });
  expect(res.status).to.equal(200);
  const s = new RawSession(weftd.grpcAddress, { ownConnection: true, identity: { namespace: 'health', serviceAccount: 'probe' } });
  const instanceId = `healthy-${process.pid}-${++healthySeq}`;
  try {
    s.hello(instanceId, { service: 'health-probe' });
    await s.waitFor('welcome');
    await s.waitFor('config');
    s.register([{ port: 1 }]);
    s.send({ subscribe: { hosts: ['health-probe'] } });
    await s.waitFor('endpoints', (m) => m.endpoints.hosts.some((h) => h.instances.some((i) => i.instanceId === instanceId)));
  } finally {
    s.close();
  }
}

export interface ListedInstance {
  instanceId: string;
  connected: boolean;
  port: number;
  labels: Record<string, string>;
}

/** GET /v1/services: the instances (one per endpoint) of `host`, as the admin API lists them. */
export async function listedInstances(adminUrl: string, host: string): Promise<ListedInstance[]> {
  const body = (await (await adminFetch(`${adminUrl}/v1/services`)).json()) as { services: { host: string; instances: ListedInstance[] }[] };
  return body.services.find((s) => s.host === host)?.instances ?? [];
}

/** Every instance of every host the admin API lists. */
export async function allListedInstances(adminUrl: string): Promise<(ListedInstance & { host: string })[]> {
  const body = (await (await adminFetch(`${adminUrl}/v1/services`)).json()) as { services: { host: string; instances: ListedInstance[] }[] };
  return body.services.flatMap((s) => s.instances.map((i) => ({ ...i, host: s.host })));
}

export interface BlackholeProxy {
  /** host:port to dial instead of weftd's. */
  address: string;
  /**
   * Stops carrying bytes on every connection open now, in both directions, and keeps the sockets
   * open: to each end the other has gone silent, as in a network partition. New connections pass.
   */
  blackhole(): void;
  close(): Promise<void>;
}

/** A TCP proxy in front of `target` (host:port) that can silence the connections it carries. */
export async function startBlackholeProxy(target: string): Promise<BlackholeProxy> {
  const i = target.lastIndexOf(':');
  const [host, port] = [target.slice(0, i), Number(target.slice(i + 1))];
  const live = new Set<{ client: net.Socket; upstream: net.Socket; silenced: boolean }>();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, host);
    const pair = { client, upstream, silenced: false };
    live.add(pair);
    const carry = (from: net.Socket, to: net.Socket) => from.on('data', (d: Buffer) => pair.silenced || to.write(d));
    carry(client, upstream);
    carry(upstream, client);
    // A close passes through, except on a silenced connection: across a partition the other end
    // learns nothing, and finds out only by its own keepalive.
    for (const [s, other] of [[client, upstream], [upstream, client]] as const) {
      const end = () => {
        if (!pair.silenced) other.destroy();
        if (client.destroyed && upstream.destroyed) live.delete(pair);
      };
      s.on('error', end);
      s.on('close', end);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    blackhole: () => {
      for (const p of live) p.silenced = true;
    },
    close: async () => {
      for (const p of live) {
        p.client.destroy();
        p.upstream.destroy();
      }
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
