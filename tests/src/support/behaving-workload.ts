// A mesh workload whose answers the test decides (a status, a delay, a reset, a body sent slowly) and
// which counts what reaches it (requests, Host headers): for the resilience tests, where what matters
// is how many attempts arrive where, and what the caller sees. It serves through mesh.serve with a join
// token, like any workload, on 127.0.0.1 port 0; stop() closes its mesh (deregistering it).
import type http from 'node:http';
import { createMesh, type Mesh, type MeshOptions } from '@weft/sdk';
import { createToken } from './weftd.js';

/** How the workload answers one request (the request body has been read into `body`). */
export type Behaviour = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

export interface BehavingWorkload {
  mesh: Mesh;
  server: http.Server;
  /** Requests received so far. */
  hits: number;
  /** The Host header of each request received, in order. */
  hosts: string[];
  /** Changes how later requests are answered. */
  behave: Behaviour;
  stop(): Promise<void>;
}

/** Answers `text` with 200. */
export const answer = (text: string): Behaviour => (_req, res) => res.end(text);

/** Answers `status` with a short text body. */
export const answerStatus = (status: number): Behaviour => (_req, res) => {
  res.statusCode = status;
  res.end(`status ${status}`);
};

/** Runs `then` after `ms` (not at all when the caller went away first). */
export const after = (ms: number, then: Behaviour): Behaviour => (req, res, body) => {
  const timer = setTimeout(() => then(req, res, body), ms);
  res.on('close', () => clearTimeout(timer));
};

export async function startBehavingWorkload(
  controlPlane: string,
  service: string,
  labels: Record<string, string>,
  behave: Behaviour,
  options: Partial<MeshOptions> & { namespace: string },
): Promise<BehavingWorkload> {
  const token = options.token ?? (await createToken(controlPlane, options.namespace, options.serviceAccount ?? 'default'));
  const mesh = await createMesh({ service, labels, controlPlane, initialTimeoutMs: 5000, drainTimeoutMs: 500, token, ...options });
  const w: BehavingWorkload = {
    mesh,
    server: undefined as unknown as http.Server,
    hits: 0,
    hosts: [],
    behave,
    stop: () => mesh.close(),
  };
  w.server = await mesh.serve((req, res) => {
    w.hits++;
    w.hosts.push(req.headers.host ?? '');
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => w.behave(req, res, body));
  }, { port: 0, host: '127.0.0.1' });
  return w;
}
