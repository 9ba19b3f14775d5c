// The admin API's CA routes (weftctl ca ...):
//   GET  /v1/ca          → {trustDomain, source, bundleVersion, active, roots: [{fingerprint, subject, notAfter, addedAt, issuedUntil, active, pending}]}
//   POST /v1/ca/rotate   → the same, after the rotation began (see identity/root-rotation.ts)
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MeshCa } from '../identity/mesh-ca.js';
import { HttpError, sendJson } from './http-utils.js';

export interface CaRoutesDeps {
  ca: MeshCa;
  /** Starts a root rotation; resolves once the new root signs. Undefined: rotation is not offered. */
  rotate?: () => Promise<void>;
}

export async function caRoutes(req: IncomingMessage, res: ServerResponse, rest: string[], deps: CaRoutesDeps, allow: (...methods: string[]) => void): Promise<void> {
  if (rest.length === 0) {
    allow('GET');
    return sendJson(res, 200, caView(deps.ca));
  }
  if (rest.length === 1 && rest[0] === 'rotate') {
    allow('POST');
    if (!deps.rotate || !deps.ca.rotatable) throw new HttpError(409, `cannot rotate ${deps.ca.source}: it is the operator's; rotate it by restarting weftd with the new files (--ca-cert, --ca-key)`);
    await deps.rotate();
    return sendJson(res, 200, caView(deps.ca));
  }
  throw new HttpError(404, 'use /v1/ca or /v1/ca/rotate');
}

export function caView(ca: MeshCa): unknown {
  const b = ca.bundle;
  return {
    trustDomain: b.trustDomain,
    source: ca.source,
    bundleVersion: b.version,
    active: b.activeFingerprint,
    roots: b.roots.map((r) => ({
      fingerprint: r.certificate.fingerprint,
      subject: r.certificate.x509.subject.replace(/\n/g, ', '),
      notAfter: r.certificate.notAfter.toISOString(),
      addedAt: r.addedAt.toISOString(),
      issuedUntil: r.issuedUntil?.toISOString() ?? null,
      active: r.certificate.fingerprint === b.activeFingerprint,
      pending: r.certificate.fingerprint === b.pendingFingerprint,
    })),
  };
}
