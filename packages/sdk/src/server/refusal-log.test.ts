import { EventEmitter } from 'node:events';
import { expect } from 'chai';
import type { InboundRefusal } from './inbound-mtls.js';
import { RefusalLog } from './refusal-log.js';

describe('RefusalLog', () => {
  it('emits every refusal but logs at most one line per interval, counting the others', () => {
    const emitter = new EventEmitter();
    const events: InboundRefusal[] = [];
    emitter.on('inboundRefused', (r: InboundRefusal) => events.push(r));
    const lines: string[] = [];
    const warn = console.warn;
    console.warn = (line: string) => void lines.push(line);
    try {
      const log = new RefusalLog(emitter, 60_000);
      const r: InboundRefusal = { reason: 'PLAINTEXT_IN_STRICT', message: 'plaintext connection refused: STRICT', remoteAddress: '127.0.0.1', port: 8080 };
      for (let i = 0; i < 5; i++) log.refused(r);
      expect(events).to.have.length(5);
      expect(lines).to.deep.equal(['[weft] inbound connection from 127.0.0.1 to port 8080 closed: plaintext connection refused: STRICT']);
    } finally {
      console.warn = warn;
    }
  });
});
