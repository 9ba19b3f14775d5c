// The columns of `weftctl get` for each kind, as kubectl shows Istio's resources: NAME and the kind's
// own columns and AGE; a NAMESPACE column first with -A; with -o wide, more columns after AGE.
import type { KindInfo } from '@weft/api';
import { resourceRef } from './command.js';
import { formatAge, formatTable } from './table.js';

/** A resource as the admin API returns it; read defensively, as weftd's answer is not trusted to be well formed. */
export interface IstioObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; creationTimestamp?: string; resourceVersion?: string };
  spec: Record<string, unknown>;
}

export interface TableOptions {
  /** -A: a NAMESPACE column first. */
  namespaces: boolean;
  /** -o wide: the extra columns. */
  wide: boolean;
  /** Several kinds in one get: names as `virtualservice.networking.istio.io/reviews`, as kubectl does. */
  qualifiedNames: boolean;
}

interface Column {
  header: string;
  cell: (item: IstioObject) => string;
}

const text = (v: unknown) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''));
const list = (values: string[]) => (values.length ? [...new Set(values)].join(',') : '<none>');
const array = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const field = (v: unknown, key: string): unknown => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined);

/** `reviews/v1` for each destination of each route of each HTTP rule. */
function destinations(spec: unknown): string[] {
  return array(field(spec, 'http')).flatMap((rule) =>
    array(field(rule, 'route')).map((r) => {
      const d = field(r, 'destination');
      const subset = field(d, 'subset');
      return `${text(field(d, 'host') ?? '')}${subset === undefined ? '' : `/${text(subset)}`}`;
    }),
  );
}

/** The columns Istio's CRDs give kubectl for each kind; a kind not listed shows NAME and AGE only. */
const COLUMNS: Partial<Record<string, { own: Column[]; wide: Column[] }>> = {
  VirtualService: {
    own: [{ header: 'HOSTS', cell: (i) => JSON.stringify(i.spec?.['hosts'] ?? []) }],
    wide: [
      { header: 'GATEWAYS', cell: (i) => (i.spec?.['gateways'] === undefined ? '<none>' : JSON.stringify(i.spec['gateways'])) },
      { header: 'DESTINATIONS', cell: (i) => list(destinations(i.spec)) },
    ],
  },
  DestinationRule: {
    own: [{ header: 'HOST', cell: (i) => text(i.spec?.['host'] ?? '') }],
    wide: [{ header: 'SUBSETS', cell: (i) => list(array(i.spec?.['subsets']).map((s) => text(field(s, 'name')))) }],
  },
  AuthorizationPolicy: {
    own: [{ header: 'ACTION', cell: (i) => text(i.spec?.['action'] ?? 'ALLOW') }],
    wide: [],
  },
  PeerAuthentication: {
    own: [{ header: 'MODE', cell: (i) => text(field(i.spec?.['mtls'], 'mode') ?? '<unset>') }],
    wide: [],
  },
};

export function resourceTable(kind: KindInfo, items: readonly IstioObject[], opts: TableOptions): string {
  const now = Date.now();
  const ofKind = COLUMNS[kind.kind] ?? { own: [], wide: [] };
  const columns: Column[] = [
    ...(opts.namespaces ? [{ header: 'NAMESPACE', cell: (i: IstioObject) => text(i.metadata?.namespace) }] : []),
    { header: 'NAME', cell: (i) => (opts.qualifiedNames ? resourceRef(kind, text(i.metadata?.name)) : text(i.metadata?.name)) },
    ...ofKind.own,
    {
      header: 'AGE',
      cell: (i) => {
        const created = Date.parse(String(i.metadata?.creationTimestamp));
        return Number.isNaN(created) ? '<unknown>' : formatAge(now - created);
      },
    },
    ...(opts.wide ? [...ofKind.wide, { header: 'RESOURCEVERSION', cell: (i: IstioObject) => text(i.metadata?.resourceVersion ?? '') }] : []),
  ];
  return formatTable(
    columns.map((c) => c.header),
    items.map((i) => columns.map((c) => c.cell(i))),
  );
}
