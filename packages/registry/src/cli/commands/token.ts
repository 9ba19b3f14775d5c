// `weftctl token create|list|revoke`: join tokens, with which a workload gets its first certificate
// (docs/security.md). `create` prints the token alone, so that `WEFT_TOKEN=$(weftctl token create ...)` works.
import type { Command } from '../command.js';
import { namespaceFlag } from '../command.js';
import { UsageError } from '../flags.js';
import { formatTable } from '../table.js';

interface TokenView {
  id: string;
  namespace: string;
  serviceAccount: string;
  spiffeId: string;
  expiresAt: string;
  revoked: boolean;
}

export const tokenCommand: Command = {
  name: 'token',
  summary: 'create, list and revoke join tokens (a workload enrols with one: WEFT_TOKEN)',
  usage:
    'weftctl token create --namespace NS --service-account SA [--ttl 1h]\n' +
    '       weftctl token list\n' +
    '       weftctl token revoke ID',
  flags: [
    { name: 'namespace', short: 'n', value: 'NS', description: 'namespace of the identity the token proves (create)' },
    { name: 'service-account', value: 'SA', description: 'service account of the identity the token proves (create)' },
    { name: 'ttl', value: 'DURATION', description: 'how long the token may be used (create; e.g. 15m, 1h, 24h)', default: '1h' },
  ],
  async run(ctx, { values, positionals }) {
    const [action, ...args] = positionals;
    switch (action) {
      case 'create': {
        if (args.length > 0) throw new UsageError(`token create takes no arguments (got ${JSON.stringify(args[0])})`);
        const namespace = namespaceFlag(values);
        const serviceAccount = values.get('service-account')?.[0];
        if (!namespace || !serviceAccount) throw new UsageError('token create needs --namespace NS and --service-account SA: the identity a workload with this token gets');
        const created = await ctx.client.request<{ token: string }>('POST', 'v1/tokens', { namespace, serviceAccount, ttl: values.get('ttl')?.[0] ?? '1h' });
        ctx.out(created.token);
        return;
      }
      case 'list': {
        if (args.length > 0) throw new UsageError(`token list takes no arguments (got ${JSON.stringify(args[0])})`);
        const { tokens } = await ctx.client.request<{ tokens: TokenView[] }>('GET', 'v1/tokens');
        if (tokens.length === 0) {
          ctx.err('No join tokens.');
          return;
        }
        const now = Date.now();
        const state = (t: TokenView) => (t.revoked ? 'revoked' : Date.parse(t.expiresAt) <= now ? 'expired' : 'valid');
        ctx.out(formatTable(['ID', 'IDENTITY', 'EXPIRES', 'STATE'], tokens.map((t) => [t.id, t.spiffeId, t.expiresAt, state(t)])));
        return;
      }
      case 'revoke': {
        if (args.length !== 1) throw new UsageError('token revoke takes one argument: the ID that token list shows');
        await ctx.client.request('DELETE', `v1/tokens/${encodeURIComponent(args[0]!)}`);
        ctx.out(`token ${args[0]} revoked`);
        return;
      }
      default:
        throw new UsageError(`token needs one of create, list, revoke${action ? ` (got ${JSON.stringify(action)})` : ''}`);
    }
  },
};
