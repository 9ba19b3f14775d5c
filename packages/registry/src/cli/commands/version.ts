import { isAdminRequestError } from '../admin-client.js';
import type { Command } from '../command.js';
import { UsageError } from '../flags.js';
import { packageVersion } from '../package-version.js';

export const versionCommand: Command = {
  name: 'version',
  summary: "print weftctl's version and that of the weftd it talks to",
  usage: 'weftctl version [--client]',
  flags: [{ name: 'client', description: "only weftctl's version; do not ask weftd" }],
  async run(ctx, { values, positionals }) {
    if (positionals.length > 0) throw new UsageError(`version takes no arguments (got ${JSON.stringify(positionals[0])})`);
    ctx.out(`Client Version: ${packageVersion()}`);
    if (values.has('client')) return;
    let version: unknown;
    try {
      ({ version } = await ctx.client.request<{ version?: unknown }>('GET', 'v1/version'));
    } catch (e) {
      // A weftd from before GET /v1/version answers 404: it is there, its version unknown.
      if (!isAdminRequestError(e) || e.status !== 404) throw e;
    }
    ctx.out(`Server Version: ${typeof version === 'string' ? version : 'unknown (this weftd does not report its version; it predates GET /v1/version)'}`);
  },
};
