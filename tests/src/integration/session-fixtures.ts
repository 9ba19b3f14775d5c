// Helpers for the session-port tests: a raw session with grpc-js's own client (so a test can send
// what the SDK never would), raw frames written with an identity serializer, a bounded wait, the
// check that weftd still serves a proper session after whatever a test did to it, and a TCP proxy
// that can silence its connections (a network partition).
import { expect } from 'chai';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { ControlPlaneClient, type SessionResponseMsg } from '@weft/api';
import type { WeftdHandle } from '../support/weftd.js';

type Duplex<Req, Res> = grpc.ClientDuplexStream<Req, Res>;

export interface RawSessionOptions {
  /** Own TCP connection instead of the one grpc-js shares among same-address clients of a process. */
  ownConnection?: boolean;
  /** The client's receive limit (grpc-js's default is 4 MiB, as an SDK from before limits.ts had). */
  receiveLimit?: number;
}

/** A Session stream opened with grpc-js's client; messages are plain objects in proto-loader's shape. */
export class RawSession {
  readonly received: SessionResponseMsg[] = [];
  error: grpc.ServiceError | undefined;
  ended = false;
  private readonly client: grpc.Client;
  private readonly call: Duplex<object, SessionResponseMsg>;

  constructor(address: string, opts: RawSessionOptions = {}) {
    const channelOptions: grpc.ChannelOptions = {};
    if (opts.ownConnection) channelOptions['grpc.use_local_subchannel_pool'] = 1;
    if (opts.receiveLimit !== undefined) channelOptions['grpc.max_receive_message_length'] = opts.receiveLimit;
    this.client = new ControlPlaneClient(address, grpc.credentials.createInsecure(), channelOptions);
    this.call = (this.client as unknown as { Session(): Duplex<object, SessionResponseMsg> }).Session();
    this.call.on('data', (m: SessionResponseMsg) => this.received.push(m));
    this.call.on('error', (e: grpc.ServiceError) => (this.error = e));
    this.call.on('end', () => (this.ended = true));
  }

  send(msg: object): void {
    this.call.write(msg);
  }

  hello(instanceId: string, over: { service?: string; namespace?: string; labels?: Record<string, string>; resume?: boolean; acceptsSplitEndpoints?: boolean; workloadName?: string; serviceAccount?: string } = {}): void {
    const { service = 'reviews', namespace = 'bookinfo', labels = {}, resume = false, acceptsSplitEndpoints = false, workloadName = `${service}-w`, serviceAccount = 'sa' } = over;
    this.send({ hello: { workload: { instanceId, service, namespace, labels, serviceAccount, workloadName }, sdkVersion: 'test', resume, acceptsSplitEndpoints } });
  }

  register(endpoints: { address?: string; port: number; protocol?: string; servicePort?: number }[]): void {
    this.send({ register: { endpoints: endpoints.map((e) => ({ address: '127.0.0.1', protocol: 'http', servicePort: 9080, ...e })) } });
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

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}

/** A Session stream whose messages are written as raw bytes: what a broken or hostile client sends. */
export class RawFrames {
  error: grpc.ServiceError | undefined;
  private readonly client: grpc.Client;
  private readonly call: Duplex<Buffer, Buffer>;

  constructor(address: string) {
    this.client = new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': -1 });
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

/** weftd is up: its admin API answers and a proper session is welcomed and gets the config snapshot. */
export async function expectHealthy(weftd: WeftdHandle): Promise<void> {
  expect(weftd.proc.exitCode, `weftd exited:\n${weftd.output()}`).to.equal(null);
  const res = await fetch(`${weftd.adminUrl}/healthz`);
  expect(res.status).to.equal(200);
  const s = new RawSession(weftd.grpcAddress, { ownConnection: true });
  try {
    s.hello(`healthy-${process.pid}-${++healthySeq}`, { service: 'productpage' });
    await s.waitFor('welcome');
    await s.waitFor('config');
    s.send({ subscribe: { hosts: ['health-probe'] } });
    await s.waitFor('endpoints');
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
  const body = (await (await fetch(`${adminUrl}/v1/services`)).json()) as { services: { host: string; instances: ListedInstance[] }[] };
  return body.services.find((s) => s.host === host)?.instances ?? [];
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
