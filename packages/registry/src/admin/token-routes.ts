// The admin API's join token routes (weftctl token ...):
//   POST   /v1/tokens        {namespace, serviceAccount, ttl?}  → {token, id, namespace, serviceAccount, expiresAt}
//   GET    /v1/tokens        → {tokens: [{id, namespace, serviceAccount, spiffeId, createdAt, expiresAt, revoked}]}
//   DELETE /v1/tokens/{id}   → {id, revoked: true}
// The secret is in the answer to POST only; weftd keeps its hash.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { WEFTD_NAMESPACE, WEFTD_SERVICE_ACCOUNT, formatJoinToken, isDnsLabel, isDnsSubdomain, MAX_SERVICE_ACCOUNT_LENGTH, parseDuration, quote } from '@weft/api';
import type { JoinTokenRecord, JoinTokenStore } from '../identity/join-token-store.js';
import type { MeshCa } from '../identity/mesh-ca.js';
import { HttpError, readBody, sendJson } from './http-utils.js';

export const DEFAULT_TOKEN_TTL = '1h';

export async function tokenRoutes(
  req: IncomingMessage,
  res: ServerResponse,
  rest: string[],
  deps: { tokens: JoinTokenStore; ca: MeshCa },
  allow: (...methods: string[]) => void,
): Promise<void> {
  const { tokens, ca } = deps;
  if (rest.length === 0) {
    allow('GET', 'POST');
    if (req.method === 'GET') return sendJson(res, 200, { tokens: tokens.list().map((r) => view(r, ca.trustDomain)) });
    const body = parseBody(await readBody(req));
    if (body.namespace === WEFTD_NAMESPACE && body.serviceAccount === WEFTD_SERVICE_ACCOUNT) {
      throw new HttpError(400, `service account ${WEFTD_SERVICE_ACCOUNT} of namespace ${WEFTD_NAMESPACE} is weftd's own identity; no join token can be made for it`);
    }
    const { record, secret } = await tokens.create(body, body.ttlMs);
    const token = formatJoinToken({ id: record.id, secret, caHash: ca.caHash() });
    return sendJson(res, 200, { token, ...view(record, ca.trustDomain) });
  }
  if (rest.length === 1) {
    allow('DELETE');
    const id = rest[0]!;
    if (!(await tokens.revoke(id))) throw new HttpError(404, `join token ${quote(id)} not found; 'weftctl token list' shows the tokens`);
    return sendJson(res, 200, { id, revoked: true });
  }
  throw new HttpError(404, 'use /v1/tokens or /v1/tokens/{id}');
}

function parseBody(text: string): { namespace: string; serviceAccount: string; ttlMs: number } {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('not an object');
  } catch (e) {
    throw new HttpError(400, `the body must be a JSON object {namespace, serviceAccount, ttl?} (${(e as Error).message})`);
  }
  const { namespace, serviceAccount, ttl } = body;
  if (typeof namespace !== 'string' || !isDnsLabel(namespace)) throw new HttpError(400, `namespace ${quote(String(namespace))} is not a DNS label (lower-case letters, digits and '-', at most 63)`);
  if (typeof serviceAccount !== 'string' || serviceAccount.length > MAX_SERVICE_ACCOUNT_LENGTH || !isDnsSubdomain(serviceAccount)) {
    throw new HttpError(400, `serviceAccount ${quote(String(serviceAccount))} is not a DNS subdomain (lower-case letters, digits, '-' and '.', at most 253)`);
  }
  let ttlMs = 3600_000;
  if (ttl !== undefined) {
    try {
      if (typeof ttl !== 'string') throw new Error('not a string');
      ttlMs = parseDuration(ttl);
    } catch (e) {
      throw new HttpError(400, `ttl ${quote(String(ttl))}: ${(e as Error).message} (e.g. "1h", "15m")`);
    }
    if (ttlMs < 1000) throw new HttpError(400, `ttl ${quote(ttl)} is under a second`);
  }
  return { namespace, serviceAccount, ttlMs };
}

function view(r: JoinTokenRecord, trustDomain: string) {
  return {
    id: r.id,
    namespace: r.namespace,
    serviceAccount: r.serviceAccount,
    spiffeId: `spiffe://${trustDomain}/ns/${r.namespace}/sa/${r.serviceAccount}`,
    createdAt: new Date(r.createdMs).toISOString(),
    expiresAt: new Date(r.expiresMs).toISOString(),
    revoked: r.revoked,
  };
}
