// `weftctl`: the command-line client of weftd's admin API.
import { existsSync, readFileSync } from 'node:fs';
import { readAdminCredential, type AdminCredential } from './admin/admin-credential.js';
import { isValidationError, parseDuration } from '@weft/api';
import { AdminClient, DEFAULT_REQUEST_TIMEOUT_MS, isAdminRequestError, type ApiIssue } from './cli/admin-client.js';
import { exitQuietlyOnBrokenPipe } from './cli/broken-pipe.js';
import { NAMESPACE_FLAG, type Command, type CommandContext } from './cli/command.js';
import { applyCommand } from './cli/commands/apply.js';
import { deleteCommand } from './cli/commands/delete.js';
import { getCommand } from './cli/commands/get.js';
import { servicesCommand } from './cli/commands/services.js';
import { tokenCommand } from './cli/commands/token.js';
import { caCommand } from './cli/commands/ca.js';
import { versionCommand } from './cli/commands/version.js';
import { formatFlagHelp, isUsageError, parseFlags, UsageError, type FlagSpec, type ParsedFlags } from './cli/flags.js';
import { ManifestReadError } from './cli/manifest-files.js';
import { escapeLines, escapeText } from './cli/terminal-text.js';

const DEFAULT_SERVER = 'https://127.0.0.1:15000';
/** weftd's default data dir, relative to where weftctl runs: the local default needs no flag. */
const DEFAULT_CREDENTIALS = '.weft-data/admin.cred';
/** weftctl ca rotate's default wait: well above weftd's default --rotation-wait. */
const CA_ROTATE_TIMEOUT_MS = 5 * 60_000;
const COMMANDS: Command[] = [applyCommand, getCommand, deleteCommand, servicesCommand, tokenCommand, caCommand, versionCommand];
/** Flags every command takes, before or after its name. */
const GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'server', short: 's', value: 'URL', description: 'admin API of weftd (or WEFT_SERVER)', default: DEFAULT_SERVER },
  { name: 'credentials', value: 'FILE', description: "weftd's admin credential (or WEFT_CREDENTIALS)", default: DEFAULT_CREDENTIALS },
  { name: 'request-timeout', value: 'DURATION', description: 'how long to wait for each answer of weftd (e.g. 10s, 2m; 0 waits for ever)', default: `${DEFAULT_REQUEST_TIMEOUT_MS / 1000}s` },
  { name: 'help', short: 'h', description: 'print help' },
];
/** Only before a command: `weftctl --version`, and kubectl's `weftctl -n NS get ...`. */
const LEADING_FLAGS: FlagSpec[] = [...GLOBAL_FLAGS, { name: 'version', description: 'print the versions of weftctl and weftd (as weftctl version)' }, NAMESPACE_FLAG];

function mainUsage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return `usage: weftctl [--server URL] <command> [flags]

commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join('\n')}
  ${'help'.padEnd(width)}print the help of a command (weftctl help get)

global flags:
${formatFlagHelp(LEADING_FLAGS.filter((f) => f !== NAMESPACE_FLAG))}

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

/**
 * `  source path: message`, each part escaped, so no value can start a line of its own; then the
 * excerpt of a syntax error (the line and a caret), indented under it.
 */
function issueLines(i: ApiIssue | { source?: unknown; path?: unknown; message?: unknown; excerpt?: unknown }): string {
  const where = [i.source, i.path].filter((p) => p !== undefined && p !== '').map((p) => escapeText(String(p)));
  const head = `  ${where.join(' ')}: ${escapeText(String(i.message))}`;
  if (typeof i.excerpt !== 'string') return head;
  return [head, ...i.excerpt.split('\n').map((l) => `      ${escapeText(l)}`)].join('\n');
}

/** kubectl commands a kubectl user will try, and what does their job here. */
const KUBECTL_HINTS: Record<string, string> = {
  create: 'apply creates and updates',
  replace: 'apply creates and updates',
  edit: 'get NAME -o yaml > FILE, edit it, then apply -f FILE',
  describe: 'get NAME -o yaml shows all of a resource',
  patch: 'get NAME -o yaml > FILE, change it, then apply -f FILE',
};

function findCommand(name: string): Command {
  const command = COMMANDS.find((c) => c.name === name);
  if (command) return command;
  const hint = Object.hasOwn(KUBECTL_HINTS, name) ? ` (${KUBECTL_HINTS[name]})` : '';
  throw new UsageError(`unknown command ${JSON.stringify(name)}${hint}; commands: ${COMMANDS.map((c) => c.name).join(', ')}, help`);
}

/** The command's flags, with a -n given before the command moved in (as kubectl takes it anywhere). */
function commandFlags(command: Command, rest: readonly string[], leading: ParsedFlags): ParsedFlags {
  const parsed = parseFlags(rest, [...command.flags, ...GLOBAL_FLAGS]);
  const ns = leading.values.get('namespace');
  if (ns) {
    if (!command.flags.some((f) => f.name === 'namespace')) throw new UsageError(`${command.name} takes no -n`);
    if (parsed.values.has('namespace')) throw new UsageError('flag --namespace given more than once');
    parsed.values.set('namespace', ns);
  }
  return parsed;
}

function requestTimeout(text: string | undefined): number {
  if (text === undefined) return DEFAULT_REQUEST_TIMEOUT_MS;
  if (text === '0') return 0;
  try {
    return parseDuration(text);
  } catch {
    throw new UsageError(`--request-timeout ${JSON.stringify(text)} is not a duration (e.g. 10s, 2m, or 0 to wait for ever)`);
  }
}

/** Runs weftctl and returns its exit code (0 ok, 1 failed, 2 usage error). */
export async function run(argv: readonly string[], io = STD_IO): Promise<number> {
  let command: Command | undefined;
  let client: AdminClient | undefined;
  let versionFlag = false;
  try {
    const leading = parseFlags(argv, LEADING_FLAGS, { stopAtFirstPositional: true });
    let [name, ...rest] = leading.positionals;
    versionFlag = leading.values.has('version');
    if (versionFlag) {
      if (name !== undefined) throw new UsageError(`--version takes no command (got ${JSON.stringify(name)}); use weftctl version`);
      name = 'version';
    }
    if (name === 'help') {
      const [topic, extra] = rest;
      if (extra !== undefined) throw new UsageError('help takes at most one command');
      io.out(topic === undefined ? mainUsage() : commandUsage(findCommand(topic)));
      return 0;
    }
    if (!name) {
      if (leading.values.has('help')) {
        io.out(mainUsage());
        return 0;
      }
      throw new UsageError('missing command');
    }
    command = findCommand(name);
    const parsed = commandFlags(command, rest, leading);
    if (leading.values.has('help') || parsed.values.has('help')) {
      io.out(commandUsage(command));
      return 0;
    }
    const flag = (n: string) => parsed.values.get(n)?.[0] ?? leading.values.get(n)?.[0];
    const fromFlag = flag('server');
    const server = fromFlag ?? process.env['WEFT_SERVER'] ?? DEFAULT_SERVER;
    const serverSource = fromFlag === undefined ? 'WEFT_SERVER' : '--server';
    if (/^http:\/\//.test(server)) {
      throw new UsageError(`${serverSource} ${JSON.stringify(server)}: weftd's admin API is HTTPS; use ${server.replace(/^http:/, 'https:')}`);
    }
    if (!/^https:\/\/[^/]+/.test(server)) {
      throw new UsageError(`${serverSource} ${JSON.stringify(server)} is not an https:// URL (e.g. ${DEFAULT_SERVER})`);
    }
    // A root rotation waits for every workload's ACK (weftd --rotation-wait, 30 s by default): give it longer.
    const slow = command === caCommand && parsed.positionals[0] === 'rotate' && flag('request-timeout') === undefined;
    client = new AdminClient(server, slow ? CA_ROTATE_TIMEOUT_MS : requestTimeout(flag('request-timeout')), await loadCredential(flag('credentials'), versionFlag || (command.name === 'version' && parsed.values.has('client'))));
    const ctx: CommandContext = { client, out: io.out, err: io.err, readStdin: () => readFileSync(0) };
    const code = await command.run(ctx, parsed);
    return typeof code === 'number' ? code : 0;
  } catch (e) {
    if (isUsageError(e)) {
      io.err(`error: ${escapeText(e.message)}`);
      io.err(command ? `Run 'weftctl ${command.name} --help' for usage.` : "Run 'weftctl --help' for usage.");
      return 2;
    }
    if (isValidationError(e)) {
      io.err(`error: invalid manifest; nothing was sent:\n${e.issues.map((i) => issueLines({ path: i.path, message: i.message, excerpt: (i as { excerpt?: unknown }).excerpt })).join('\n')}`);
      return 1;
    }
    if (isAdminRequestError(e)) {
      const issues = Array.isArray(e.issues) ? e.issues.map(issueLines) : [];
      io.err(`error: ${escapeText(e.message)}${issues.length ? `\n${issues.join('\n')}` : ''}`);
      // --version answers for weftctl even with no weftd to ask.
      return versionFlag && e.status === undefined ? 0 : 1;
    }
    if (e instanceof ManifestReadError) {
      io.err(`error: ${escapeLines(e.message)}${e.issues.length ? `\n${e.issues.map((i) => issueLines(i)).join('\n')}` : ''}`);
      return 1;
    }
    throw e;
  } finally {
    client?.close();
  }
}

/**
 * The admin credential from --credentials, else WEFT_CREDENTIALS, else .weft-data/admin.cred here.
 * Missing: a message that names all three (or none, for --version, which answers for weftctl alone).
 */
async function loadCredential(fromFlag: string | undefined, optional: boolean): Promise<(AdminCredential & { source: string }) | undefined> {
  const fromEnv = process.env['WEFT_CREDENTIALS'] || undefined;
  const path = fromFlag ?? fromEnv ?? DEFAULT_CREDENTIALS;
  const source = fromFlag !== undefined ? `--credentials ${path}` : fromEnv !== undefined ? `WEFT_CREDENTIALS ${path}` : path;
  if (fromFlag === undefined && fromEnv === undefined && !existsSync(path)) {
    if (optional) return undefined;
    throw new UsageError(
      `no admin credential: weftctl needs weftd's admin.cred (weftd writes it to <data-dir>/admin.cred on first start and prints its path). ` +
        `Give --credentials FILE or set WEFT_CREDENTIALS; without either weftctl reads ${DEFAULT_CREDENTIALS} in the current directory (weftd's default data dir), and there is none in ${process.cwd()}`,
    );
  }
  try {
    return { ...(await readAdminCredential(path)), source };
  } catch (e) {
    throw new UsageError(`${fromFlag !== undefined ? '--credentials' : fromEnv !== undefined ? 'WEFT_CREDENTIALS' : 'admin credential'}: ${(e as Error).message}`);
  }
}

export async function main(argv: readonly string[]): Promise<void> {
  exitQuietlyOnBrokenPipe();
  process.exitCode = await run(argv);
}
