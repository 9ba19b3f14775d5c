// TLS to weftd's session port, checked the way a mesh checks a peer: weftd's certificate must chain to
// a root the workload trusts and name weftd's identity (weftdSpiffeId), whatever address weftd is
// reached by. What is trusted is read at each connection, so a new bundle (a root rotation) or the
// workload's first certificate applies to the next connection:
//  - the trust bundle the workload holds (from weftd, once it checked it), else the roots of
//    options.caFile / WEFT_CA_FILE;
//  - before any of those, the join token's CA hash (kubeadm's discovery-token-ca-cert-hash): weftd
//    sends its whole chain, root included, and the root with that hash is the anchor. No join token,
//    no roots: createMesh refuses to start (there is no option that skips the check).
// The workload's certificate, once it has one, is presented as client certificate: weftd then knows
// who reconnects without a token.
//
// grpc-js's own TLS (createSsl) fixes its roots and certificate when the channel is made and cannot
// anchor on a hash, so this is a ChannelCredentials with its own connector (the extension point grpc-js
// gives credentials: `_createSecureConnector`).
import * as grpc from '@grpc/grpc-js';
import { connect as tlsConnect, type DetailedPeerCertificate, type TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import { isWeftdSpiffeId } from '@weft/api';
import { bundleHasCaHash, chainProblem } from '../identity/trust-check.js';
import { UNTRUSTED_WEFTD } from './connect-failure.js';

export interface WeftdTrust {
  /** Root certificates (PEM) that vouch for weftd; empty when only a join token's CA hash is known. */
  roots(): string[];
  /** Where roots() came from, for messages ("caFile /x/ca.pem"); default "the roots this workload trusts". */
  rootsSource?(): string;
  /** The join token's CA hash, when there is a token. */
  pinnedCaHash(): string | undefined;
  /** The workload's key and chain, presented as client certificate; null before the first certificate. */
  clientCertificate(): { keyPem: string; chainPem: string } | null;
}

type CreateConnector = grpc.ChannelCredentials['_createSecureConnector'];

export class WeftdChannelCredentials extends grpc.ChannelCredentials {
  constructor(private readonly trust: WeftdTrust) {
    super();
  }

  override compose(): grpc.ChannelCredentials {
    throw new Error('WeftdChannelCredentials carries no call credentials');
  }

  _isSecure(): boolean {
    return true;
  }

  _equals(other: grpc.ChannelCredentials): boolean {
    return other === this;
  }

  _createSecureConnector(...[, , callCredentials]: Parameters<CreateConnector>): ReturnType<CreateConnector> {
    return {
      connect: (socket) => connectToWeftd(socket, this.trust).then((tls) => ({ socket: tls, secure: true })),
      waitForReady: () => Promise.resolve(),
      getCallCredentials: () => callCredentials ?? grpc.credentials.createEmpty() as unknown as grpc.CallCredentials,
      destroy: () => undefined,
    };
  }
}

function connectToWeftd(socket: Socket, trust: WeftdTrust): Promise<TLSSocket> {
  const client = trust.clientCertificate();
  return new Promise((resolve, reject) => {
    // OpenSSL's own verdict is not used (rejectUnauthorized: false): the chain is checked below against
    // the roots or the pinned hash, and the identity is a SPIFFE ID, not a host name.
    const tls = tlsConnect({ socket, ALPNProtocols: ['h2'], rejectUnauthorized: false, ...(client ? { key: client.keyPem, cert: client.chainPem } : {}) }, () => {
      const problem = weftdCertificateProblem(tls, trust);
      if (problem) {
        tls.destroy();
        reject(new Error(problem));
      } else resolve(tls);
    });
    tls.once('error', reject);
  });
}

/**
 * What is wrong with the certificate weftd presented on `tls`, or undefined. Each answer starts with
 * UNTRUSTED_WEFTD, so that explainConnectFailure can tell it from a failed handshake.
 */
export function weftdCertificateProblem(tls: TLSSocket, trust: WeftdTrust): string | undefined {
  const problem = certificateProblem(tls, trust);
  return problem && UNTRUSTED_WEFTD + problem;
}

function certificateProblem(tls: TLSSocket, trust: WeftdTrust): string | undefined {
  const chain = presentedChain(tls.getPeerCertificate(true));
  if (chain.length === 0) return 'it presented no certificate';
  let roots: string[];
  let source: string;
  try {
    roots = trust.roots();
    source = trust.rootsSource?.() ?? 'the roots this workload trusts';
  } catch (e) {
    return (e as Error).message;
  }
  if (roots.length === 0) {
    const pin = trust.pinnedCaHash();
    if (!pin) return 'this workload has nothing to check it against (no join token, no caFile)';
    roots = chain.filter((pem) => bundleHasCaHash([pem], pin));
    source = "the join token's root";
    if (roots.length === 0) {
      // Checked before anything is sent on the connection: a token never goes to a server that is not its weftd.
      return (
        `its CA does not match the join token's CA hash (${pin.slice(0, 16)}...): no root of the certificate chain it presented has that hash, ` +
        'so it is not the weftd that made the token, or its CA was replaced; nothing was sent to it. ' +
        'Check options.controlPlane or WEFT_CONTROL_PLANE, or create a new token on this weftd (weftctl token create)'
      );
    }
  }
  const leafUri = uriOf(tls.getPeerCertificate());
  if (!leafUri || !isWeftdSpiffeId(leafUri)) {
    return (
      `its certificate names ${leafUri || 'no SPIFFE ID'}, not weftd's identity (spiffe://<trust-domain>/ns/istio-system/sa/weftd): ` +
      "the address is not weftd's session port (a workload's port?); check options.controlPlane or WEFT_CONTROL_PLANE"
    );
  }
  const problem = chainProblem(chain.join(''), roots, leafUri);
  return problem && `its certificate cannot be trusted by ${source}: ${problem}`;
}

/** The chain the server sent, leaf first, as PEM (getPeerCertificate(true) links each to its issuer). */
function presentedChain(leaf: DetailedPeerCertificate): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (let c: DetailedPeerCertificate | undefined = leaf; c?.raw && !seen.has(c.fingerprint256) && out.length < 10; c = c.issuerCertificate) {
    seen.add(c.fingerprint256);
    out.push(`-----BEGIN CERTIFICATE-----\n${c.raw.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END CERTIFICATE-----\n`);
  }
  return out;
}

function uriOf(cert: { subjectaltname?: string }): string | undefined {
  const uris = String(cert.subjectaltname ?? '').split(', ').filter((n) => n.startsWith('URI:')).map((n) => n.slice(4));
  return uris.length === 1 ? uris[0] : undefined;
}
