// Checks of every client message of a Session stream. A problem is returned as a message naming the
// field; the session server ends the stream with INVALID_ARGUMENT and stores nothing from it.
import { isDnsLabel, type SessionRequestMsg } from '@weft/api';

export const PROTOCOLS = ['http', 'http2', 'grpc'] as const;

/** Returns what is wrong with the message, or undefined when it is acceptable. */
export function sessionRequestProblem(msg: SessionRequestMsg): string | undefined {
  switch (msg.kind) {
    case 'hello': {
      const w = msg.hello.workload;
      if (!w) return 'hello.workload is required';
      if (!w.instanceId) return 'hello.workload.instanceId must not be empty';
      if (!isDnsLabel(w.service)) return `hello.workload.service ${JSON.stringify(w.service)} is not a DNS label (lower-case letters, digits and '-', at most 63)`;
      if (!isDnsLabel(w.namespace)) return `hello.workload.namespace ${JSON.stringify(w.namespace)} is not a DNS label (lower-case letters, digits and '-', at most 63)`;
      return undefined;
    }
    case 'register': {
      for (const [i, e] of msg.register.endpoints.entries()) {
        const at = `register.endpoints[${i}]`;
        if (!e.address) return `${at}.address must not be empty`;
        if (!Number.isInteger(e.port) || e.port < 1 || e.port > 65535) return `${at}.port ${e.port} is not in 1..65535`;
        if (!(PROTOCOLS as readonly string[]).includes(e.protocol)) return `${at}.protocol ${JSON.stringify(e.protocol)} is not one of ${PROTOCOLS.join(', ')}`;
        if (!Number.isInteger(e.servicePort) || e.servicePort < 0 || e.servicePort > 65535) return `${at}.servicePort ${e.servicePort} is not in 0..65535`;
      }
      return undefined;
    }
    case 'subscribe': {
      if (msg.subscribe.hosts.length === 0) return 'subscribe.hosts must not be empty';
      const bad = msg.subscribe.hosts.findIndex((h) => !h || /\s/.test(h));
      if (bad >= 0) return `subscribe.hosts[${bad}] ${JSON.stringify(msg.subscribe.hosts[bad])} is not a host name`;
      return undefined;
    }
    case 'ack': {
      if (msg.ack.type !== 'config' && msg.ack.type !== 'endpoints') return `ack.type ${JSON.stringify(msg.ack.type)} is not "config" or "endpoints"`;
      if (!msg.ack.nonce) return 'ack.nonce must not be empty';
      return undefined;
    }
    default:
      return 'the message sets none of hello, register, subscribe, ack';
  }
}
