// `weftctl`: the command-line client of weftd's admin API.
import { readFileSync } from 'node:fs';
import { isValidationError } from '@weft/api';
import { AdminClient, isAdminRequestError } from './cli/admin-client.js';
import { exitQuietlyOnBrokenPipe } from './cli/broken-pipe.js';
import type { Command } from './cli/command.js';
import { applyCommand } from './cli/commands/apply.js';
import { deleteCommand } from './cli/commands/delete.js';
import { getCommand } from './cli/commands/get.js';
import { servicesCommand } from './cli/commands/services.js';
import { formatFlagHelp, isUsageError, parseFlags, UsageError, type FlagSpec } from './cli/flags.js';
import { ManifestReadError } from './cli/manifest-files.js';
import { escapeLines, escapeText } from './cli/terminal-text.js';

const DEFAULT_SERVER = 'http://127.0.0.1:15000';
const COMMANDS: Command[] = [applyCommand, getCommand, deleteCommand, servicesCommand];
const GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'server', short: 's', value: 'URL', description: 'admin API of weftd (or WEFT_SERVER)', default: DEFAULT_SERVER },
  { name: 'help', short: 'h', description: 'print help' },
];

function mainUsage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return `usage: weftctl [--server URL] <command> [flags]

commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join('\n')}

global flags:
${formatFlagHelp(GLOBAL_FLAGS)}

Run 'weftctl <command> --help' for the flags of a command.`;
}

function commandUsage(c: Command): string {
  const flags = [...c.flags, ...GLOBAL_FLAGS];
  return `usage: ${c.usage}\n\n${c.summary}\n\nflags:\n${formatFlagHelp(flags)}`;
}

/**
 * What weftctl prints, line by line. Whatever text came from weftd or a file is escaped where it is
 * composed (escapeText); this last pass escapes anything left that could drive the terminal.
 */
const STD_IO = {
  out: (t: string) => process.stdout.write(`${escapeLines(t)}\n`),
  err: (t: string) => process.stderr.write(`${escapeLines(t)}\n`),
};

/** `  source path: message`, each part escaped, so no value can start a line of its own. */
function issueLine(i: { source?: unknown; path?: unknown; message?: unknown }): string {
  const where = [i.source, i.path].filter((p) => p !== undefined && p !== '').map((p) => escapeText(String(p)));
  return `  ${where.join(' ')}: ${escapeText(String(i.message))}`;
}

/** Runs weftctl and returns its exit code (0 ok, 1 failed, 2 usage error). */
export async function run(argv: readonly string[], io = STD_IO): Promise<number> {
  let command: Command | undefined;
  try {
    const global = parseFlags(argv, GLOBAL_FLAGS, { stopAtFirstPositional: true });
    const [name, ...rest] = global.positionals;
    if (!name) {
      if (global.values.has('help')) {
        io.out(mainUsage());
        return 0;
      }
      throw new UsageError('missing command');
    }
    command = COMMANDS.find((c) => c.name === name);
    if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)}; commands: ${COMMANDS.map((c) => c.name).join(', ')}`);
    const parsed = parseFlags(rest, [...command.flags, ...GLOBAL_FLAGS]);
    if (global.values.has('help') || parsed.values.has('help')) {
      io.out(commandUsage(command));
      return 0;
    }
    const server = parsed.values.get('server')?.[0] ?? global.values.get('server')?.[0] ?? process.env['WEFT_SERVER'] ?? DEFAULT_SERVER;
    if (!/^https?:\/\/[^/]+/.test(server)) throw new UsageError(`--server ${JSON.stringify(server)} is not an http:// URL`);
    await command.run({ client: new AdminClient(server), out: io.out, readStdin: () => readFileSync(0, 'utf8') }, parsed);
    return 0;
  } catch (e) {
    if (isUsageError(e)) {
      io.err(`error: ${escapeText(e.message)}`);
      io.err(command ? `Run 'weftctl ${command.name} --help' for usage.` : "Run 'weftctl --help' for usage.");
      return 2;
    }
    if (isValidationError(e)) {
      io.err(`error: invalid manifest; nothing was sent:\n${e.issues.map((i) => issueLine({ path: i.path, message: i.message })).join('\n')}`);
      return 1;
    }
    if (isAdminRequestError(e)) {
      const issues = Array.isArray(e.issues) ? e.issues.map(issueLine) : [];
      io.err(`error: ${escapeText(e.message)}${issues.length ? `\n${issues.join('\n')}` : ''}`);
      return 1;
    }
    if (e instanceof ManifestReadError) {
      io.err(`error: ${escapeLines(e.message)}`);
      return 1;
    }
    throw e;
  }
}

export async function main(argv: readonly string[]): Promise<void> {
  exitQuietlyOnBrokenPipe();
  process.exitCode = await run(argv);
}
