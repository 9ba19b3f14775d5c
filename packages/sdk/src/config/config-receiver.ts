// What the mesh does with each ConfigUpdate: take it into the received set (full: replace; delta:
// apply, if based on the version held), compile what changed, and say whether to ACK or NACK.
import type { ConfigUpdateMsg } from '@weft/api';
import { ConfigRejectedError } from './compile.js';
import type { CompiledConfig } from './compiled.js';
import { ConfigCompiler } from './config-compiler.js';
import { ReceivedConfig } from './received-config.js';
import type { WorkloadScope } from './workload-authorization.js';

/** ACK with the config to put in force, or NACK with the reason (the last good config stays). */
export type ReceiveOutcome = { ok: true; config: CompiledConfig } | { ok: false; error: string };

export class ConfigReceiver {
  /** The resources as weftd sent them (NACKed ones included): what its deltas apply to. */
  readonly received = new ReceivedConfig();
  private readonly compiler: ConfigCompiler;

  /** `scope`: this workload, to choose the AuthorizationPolicies its servers enforce. */
  constructor(callerNamespace: string, scope?: WorkloadScope) {
    this.compiler = new ConfigCompiler(callerNamespace, scope);
  }

  receive(msg: ConfigUpdateMsg): ReceiveOutcome {
    try {
      return { ok: true, config: this.compiler.update(msg.version, this.received.apply(msg)) };
    } catch (e) {
      return { ok: false, error: e instanceof ConfigRejectedError ? e.message : `cannot compile config: ${(e as Error).message}` };
    }
  }
}
