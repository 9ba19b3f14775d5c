import { lookupKind } from '@weft/api';
import { sendBatch } from '../batch-request.js';
import { FILE_FLAG, NAMESPACE_FLAG, namespaceFlag, resourceRef, type Command } from '../command.js';
import { UsageError } from '../flags.js';
import { noResourcesError, parseManifestSources, readManifestSources } from '../manifest-files.js';
import { warningLine, warningsOf, type ApiWarning } from '../warning-lines.js';

interface ApplyResponse {
  revision: number;
  results: { kind: string; name: string; action: string }[];
  /** References left unresolved (IST0101): stored all the same, as Istio does. */
  warnings?: ApiWarning[];
}

export const applyCommand: Command = {
  name: 'apply',
  summary: 'create or update resources from manifests, all files as one atomic batch',
  usage: `weftctl apply -f FILE|DIR|- [-f ...] [-n NS] [--dry-run]

Files apply in any order, as with Istio: a VirtualService may route to a subset that no DestinationRule
defines yet. It is stored, and each such reference is a Warning: line on stderr (istioctl analyze's
IST0101); requests routed there get 503 until the DestinationRule arrives. The exit code stays 0.`,
  flags: [FILE_FLAG, { ...NAMESPACE_FLAG, description: 'namespace of the documents that name none' }, { name: 'dry-run', description: 'validate on the server without storing anything' }],
  async run(ctx, { values, positionals }) {
    if (positionals.length > 0) throw new UsageError(`apply takes no arguments (got ${JSON.stringify(positionals[0])}); use -f`);
    const files = values.get('filename');
    if (!files) throw new UsageError('apply needs at least one -f FILE|DIR|-');
    const namespace = namespaceFlag(values);
    const dryRun = values.has('dry-run');
    const sources = readManifestSources(files, ctx.readStdin);
    const perSource = parseManifestSources(sources, namespace);
    if (perSource.every((docs) => docs.length === 0)) throw noResourcesError(files);
    const query = new URLSearchParams();
    if (namespace) query.set('namespace', namespace);
    if (dryRun) query.set('dryRun', 'true');
    const documents = perSource.map((docs) => docs.map((d) => ({ source: d.source, object: d.resource })));
    const res = await sendBatch<ApplyResponse>(ctx.client, 'apply', `v1/apply?${query}`, sources, documents);
    // As kubectl prints a server's warnings: on stderr, before the result, the exit code still 0.
    for (const w of warningsOf(res)) ctx.err(warningLine(w));
    for (const r of res.results) {
      const kind = lookupKind(r.kind);
      ctx.out(`${kind ? resourceRef(kind, r.name) : `${r.kind}/${r.name}`} ${r.action}${dryRun ? ' (dry run)' : ''}`);
    }
  },
};
