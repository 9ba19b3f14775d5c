// Header propagation as Istio's Bookinfo does it (ISTIO-REFERENCE 1.4). Istio cannot join an inbound
// request to the outbound calls it causes; the application must copy these headers itself.
import type { IncomingHttpHeaders } from 'node:http';

/** Trace and request-id headers every Bookinfo service copies verbatim. */
const TRACE_HEADERS = [
  'x-request-id',
  'x-ot-span-context',
  'x-datadog-trace-id',
  'x-datadog-parent-id',
  'x-datadog-sampling-priority',
  'traceparent',
  'tracestate',
  'x-cloud-trace-context',
  'grpc-trace-bin',
] as const;

const B3_HEADERS = ['x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-flags'] as const;

/** Caller identity and credentials, copied as they came. */
const CALLER_HEADERS = ['user-agent', 'cookie', 'authorization', 'jwt'] as const;

/** What details and reviews forward on every upstream call (kept in sync with productpage, as in Istio). */
export const FORWARDED_HEADERS: readonly string[] = [...TRACE_HEADERS, ...B3_HEADERS, 'sw8', 'end-user', ...CALLER_HEADERS];

/**
 * What productpage copies verbatim. B3 is handled apart (as the original's B3 propagator does) and
 * `end-user` is deliberately absent: productpage sets it from its own session, so a caller cannot
 * pose as `jason` by sending the header.
 */
export const PRODUCTPAGE_COPIED_HEADERS: readonly string[] = [...TRACE_HEADERS, 'sw8', ...CALLER_HEADERS];

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Copies the named headers that are present on the incoming request. */
export function copyHeaders(incoming: IncomingHttpHeaders, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = single(incoming[name]);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

const HEX_TRACE_ID = /^(?:[0-9a-f]{16}|[0-9a-f]{32})$/;
const HEX_SPAN_ID = /^[0-9a-f]{16}$/;

/**
 * B3 context re-injected in the multi-header form, like OpenTelemetry's B3MultiFormat in the original
 * productpage: extracted from `x-b3-*` or the single `b3` header, emitted as x-b3-traceid/spanid plus
 * x-b3-sampled (or x-b3-flags: 1 for debug). An invalid or absent context yields no headers.
 */
export function b3Headers(incoming: IncomingHttpHeaders): Record<string, string> {
  let traceId = single(incoming['x-b3-traceid'])?.toLowerCase();
  let spanId = single(incoming['x-b3-spanid'])?.toLowerCase();
  let sampled = single(incoming['x-b3-sampled']);
  let debug = single(incoming['x-b3-flags']) === '1';
  const singleHeader = single(incoming['b3']);
  if (singleHeader && !(traceId && spanId)) {
    const [t, s, flag] = singleHeader.toLowerCase().split('-');
    traceId = t;
    spanId = s;
    debug = flag === 'd';
    sampled = flag === 'd' ? undefined : flag;
  }
  if (!traceId || !spanId || !HEX_TRACE_ID.test(traceId) || !HEX_SPAN_ID.test(spanId)) return {};
  const out: Record<string, string> = { 'x-b3-traceid': traceId, 'x-b3-spanid': spanId };
  if (debug) out['x-b3-flags'] = '1';
  else if (sampled === '1' || sampled === 'true') out['x-b3-sampled'] = '1';
  else if (sampled === '0' || sampled === 'false') out['x-b3-sampled'] = '0';
  return out;
}
