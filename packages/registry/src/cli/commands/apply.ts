import { lookupKind } from '@weft/api';
import { FILE_FLAG, NAMESPACE_FLAG, resourceRef, type Command } from '../command.js';
import { UsageError } from '../flags.js';
import { parseManifestSources, readManifestSources } from '../manifest-files.js';

interface ApplyResponse {
  revision: number;
  results: { kind: string; name: string; action: string }[];
}

export const applyCommand: Command = {
  name: 'apply',
  summary: 'create or update resources from manifests, all files as one atomic batch',
  usage: 'weftctl apply -f FILE|DIR|- [-f ...] [-n NS] [--dry-run]',
  flags: [FILE_FLAG, NAMESPACE_FLAG, { name: 'dry-run', description: 'validate on the server without storing anything' }],
  async run(ctx, { values, positionals }) {
    if (positionals.length > 0) throw new UsageError(`apply takes no arguments (got ${JSON.stringify(positionals[0])}); use -f`);
    const files = values.get('filename');
    if (!files) throw new UsageError('apply needs at least one -f FILE|DIR|-');
    const namespace = values.get('namespace')?.[0];
    const dryRun = values.has('dry-run');
    const docs = parseManifestSources(readManifestSources(files, ctx.readStdin), namespace);
    if (docs.length === 0) throw new UsageError(`no resources found in ${files.join(', ')}`);
    const query = new URLSearchParams();
    if (namespace) query.set('namespace', namespace);
    if (dryRun) query.set('dryRun', 'true');
    const res = await ctx.client.request<ApplyResponse>('POST', `v1/apply?${query}`, {
      resources: docs.map((d) => ({ source: d.source, object: d.resource })),
    });
    for (const r of res.results) {
      const kind = lookupKind(r.kind);
      ctx.out(`${kind ? resourceRef(kind, r.name) : `${r.kind}/${r.name}`} ${r.action}${dryRun ? ' (dry run)' : ''}`);
    }
  },
};
