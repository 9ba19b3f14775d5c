import { expect } from 'chai';
import { Session, type SessionCall } from './session.js';

/** Stands in for the grpc-js stream: Session only writes to it. */
function fakeCall(): SessionCall & { written: Buffer[] } {
  const written: Buffer[] = [];
  return { written, write: (b: Buffer) => written.push(b) } as unknown as SessionCall & { written: Buffer[] };
}

const nack = (nonce: string, version: string, error = 'no') => ({ type: 'config', version, nonce, error });
const ack = (nonce: string, version: string) => ({ type: 'config', version, nonce, error: '' });

describe('Session ACK/NACK bookkeeping', () => {
  let session: Session;
  beforeEach(() => {
    session = new Session('s1', fakeCall(), 'peer', 0);
    session.instanceId = 'i1';
    session.sendUpdate('config', '1', 'full-1', Buffer.from('f1'));
  });

  it('asks for a full snapshot once when a delta is NACKed', () => {
    session.sendUpdate('config', '2', 'delta-2', Buffer.from('d2'), true);
    const first = session.recordAck(nack('delta-2', '2', 'delta based on 2 but this client holds 1'));
    expect(first.resendFullConfig).to.equal(true);
    expect(first.logs).to.have.length(1);
    expect(first.logs[0]).to.contain('session s1 (i1').and.contain('NACKed config version 2 (a delta): "delta based on 2 but this client holds 1"');
    expect(session.config.nack).to.deep.equal({ version: '2', error: 'delta based on 2 but this client holds 1' });
    session.sendUpdate('config', '2', 'full-2', Buffer.from('f2'));
    // The same NACK again (or arriving late) must not cause a second resend.
    expect(session.recordAck(nack('delta-2', '2', 'delta based on 2 but this client holds 1'))).to.deep.equal({
      logs: [],
      resendFullConfig: false,
      answered: { type: 'config', version: '2' },
    });
  });

  it('does not resend after a NACKed full snapshot, an ACK, or an unknown nonce', () => {
    expect(session.recordAck(nack('full-1', '1')).resendFullConfig).to.equal(false);
    session.sendUpdate('config', '2', 'delta-2', Buffer.from('d2'), true);
    expect(session.recordAck(ack('delta-2', '2'))).to.deep.equal({ logs: [], resendFullConfig: false, answered: { type: 'config', version: '2' } });
    expect(session.config.ackedVersion).to.equal('2');
    expect(session.recordAck(nack('never-sent', '2'))).to.deep.equal({ logs: [], resendFullConfig: false });
    expect(session.recordAck({ type: 'endpoints', version: '2', nonce: 'delta-2', error: 'x' }).resendFullConfig).to.equal(false);
  });

  it('does not resend for a NACKed delta when a full snapshot was sent after it', () => {
    session.sendUpdate('config', '2', 'delta-2', Buffer.from('d2'), true);
    session.sendUpdate('config', '3', 'delta-3', Buffer.from('d3'), true);
    expect(session.recordAck(nack('delta-2', '2')).resendFullConfig).to.equal(true);
    session.sendUpdate('config', '3', 'full-3', Buffer.from('f3'));
    expect(session.recordAck(nack('delta-3', '3')).resendFullConfig).to.equal(false);
    session.sendUpdate('config', '4', 'delta-4', Buffer.from('d4'), true);
    expect(session.recordAck(nack('delta-4', '4')).resendFullConfig).to.equal(true);
    expect(session.config.sentVersion).to.equal('4');
  });

  it('logs a flood of distinct NACKs as a few lines and one summary, and remembers a bounded number', () => {
    const lines: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      session.sendUpdate('config', String(i + 2), `n-${i}`, Buffer.from('x'));
      lines.push(...session.recordAck(nack(`n-${i}`, String(i + 2), `reason ${i} ${'z'.repeat(100)}`)).logs);
    }
    expect(lines).to.have.length(5);
    const summary = session.nackSummary();
    expect(summary).to.contain('session s1 (i1').and.contain('9995 more distinct NACKs not logged').and.contain('reason 9999');
    expect(session.nackSummary()).to.equal(undefined);
    const remembered = (session as unknown as { nackLog: { seen: Set<string> } }).nackLog.seen;
    expect(remembered.size).to.be.at.most(32);
  });

  it('cuts a huge NACK reason before storing or logging it', () => {
    session.sendUpdate('config', '2', 'big', Buffer.from('x'));
    const outcome = session.recordAck(nack('big', '2', 'e'.repeat(1024 * 1024)));
    expect(session.config.nack!.error.length).to.be.lessThan(5000);
    expect(session.config.nack!.error).to.contain('cut at 4096 of 1048576 characters');
    expect(outcome.logs[0]!.length).to.be.lessThan(5000);
  });
});
