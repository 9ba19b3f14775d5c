import { lookupKind } from '@weft/api';
import { sendBatch } from '../batch-request.js';
import { DEFAULT_NAMESPACE, FILE_FLAG, KIND_NAMES, NAMESPACE_FLAG, namespaceFlag, notFoundLine, resourceRef, type Command } from '../command.js';
import { UsageError } from '../flags.js';
import { noResourcesError, readDocumentsLoosely, readManifestSources } from '../manifest-files.js';
import { parseResourceArgs } from '../resource-args.js';
import { warningLine, warningsOf, type ApiWarning } from '../warning-lines.js';

interface DeleteTarget {
  kind: string;
  namespace: string;
  name: string;
}

interface DeleteResponse {
  revision: number;
  deleted: DeleteTarget[];
  /** Listed resources that did not exist (with ?missing=ignore). */
  missing?: DeleteTarget[];
  /** References the delete leaves unresolved (IST0101): deleted all the same, as Istio does. */
  warnings?: ApiWarning[];
}

export const deleteCommand: Command = {
  name: 'delete',
  summary: 'delete resources by kind and name, or those listed in manifests, in one atomic batch',
  usage: `weftctl delete TYPE[,TYPE...] NAME... | TYPE/NAME... [-n NS] [--ignore-not-found]
       weftctl delete -f FILE|DIR|- [-f ...] [-n NS] [--ignore-not-found]

Types: ${KIND_NAMES}.
What exists is deleted in one atomic write; each resource that does not exist is reported on stderr,
and the exit code is then 1 unless --ignore-not-found. Deleting a DestinationRule that a VirtualService
still routes to is done, with a Warning: line on stderr (as istioctl analyze's IST0101).`,
  flags: [
    FILE_FLAG,
    NAMESPACE_FLAG,
    { name: 'ignore-not-found', description: 'exit 0 when some (or all) of the resources do not exist' },
    { name: 'dry-run', description: 'check on the server without deleting anything' },
  ],
  async run(ctx, { values, positionals }) {
    const namespace = namespaceFlag(values);
    const files = values.get('filename');
    const dryRun = values.has('dry-run');
    const query = new URLSearchParams({ missing: 'ignore' });
    if (dryRun) query.set('dryRun', 'true');
    let res: DeleteResponse;
    if (files) {
      if (positionals.length > 0) throw new UsageError(`delete takes either -f or TYPE NAME..., not both (got ${JSON.stringify(positionals[0])})`);
      const sources = readManifestSources(files, ctx.readStdin);
      const perSource = readDocumentsLoosely(sources);
      if (perSource.every((docs) => docs.length === 0)) throw noResourcesError(files);
      if (namespace) query.set('namespace', namespace);
      res = await sendBatch<DeleteResponse>(ctx.client, 'delete', `v1/delete?${query}`, sources, perSource);
    } else {
      const { selections, named } = parseResourceArgs(positionals, 'delete');
      if (!named) throw new UsageError(`delete needs the names of the resources (weftctl delete ${positionals[0]} NAME...), or -f FILE`);
      const ns = namespace ?? DEFAULT_NAMESPACE;
      const resources = selections.flatMap((s) =>
        s.names.map((name) => ({
          source: `${s.kind.singular}/${name}`,
          object: { apiVersion: `${s.kind.group}/${s.kind.apiVersions[0]}`, kind: s.kind.kind, metadata: { name, namespace: ns } },
        })),
      );
      res = await ctx.client.request<DeleteResponse>('POST', `v1/delete?${query}`, { resources });
    }
    for (const w of warningsOf(res)) ctx.err(warningLine(w));
    for (const d of res.deleted) {
      const kind = lookupKind(d.kind);
      ctx.out(`${kind ? resourceRef(kind, d.name) : `${d.kind}/${d.name}`} deleted${dryRun ? ' (dry run)' : ''}`);
    }
    const missing = Array.isArray(res.missing) ? res.missing : [];
    if (values.has('ignore-not-found')) return 0;
    for (const m of missing) {
      const kind = lookupKind(m.kind);
      ctx.err(notFoundLine(kind ?? { plural: String(m.kind), group: '' }, String(m.name), String(m.namespace)));
    }
    return missing.length > 0 ? 1 : 0;
  },
};
