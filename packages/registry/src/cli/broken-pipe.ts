// What a process does when the reader of its stdout or stderr goes away. Node reports a write to a
// closed pipe as an 'error' event on the stream, and with no listener that is an uncaught exception:
// `weftctl get vs | head -1` ended in an EPIPE stack trace, and a weftd whose log reader died would
// have died with it.
import type { Writable } from 'node:stream';

/** 128 + SIGPIPE: the status a shell reports for a program stopped by a closed pipe (as kubectl is). */
export const BROKEN_PIPE_EXIT_CODE = 141;

/**
 * For a command-line tool: when its reader goes away, stop at once and quietly, as a program killed
 * by SIGPIPE does (Node ignores SIGPIPE, so this is done by hand). Other write errors (a full disk)
 * end the process with status 1 and one line on stderr where it still can.
 */
export function exitQuietlyOnBrokenPipe(streams: Writable[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(BROKEN_PIPE_EXIT_CODE);
      if (stream !== process.stderr) process.stderr.write(`error: cannot write output: ${e.message}\n`, () => process.exit(1));
      else process.exit(1);
    });
  }
}

/**
 * For a daemon: its job is serving, not printing, so a stdout or stderr that can no longer be written
 * (reader gone, terminal hung up) costs the lines it would have printed, and nothing else.
 */
export function keepRunningWithoutOutput(streams: Writable[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) stream.on('error', () => {});
}
