// The workload's checks of what weftd sends about trust: that its bundle holds the root a join token
// names (before the token's secret is sent), and that a certificate weftd signed chains to that bundle.
import { X509Certificate } from 'node:crypto';
import { caHashOfCertificate } from '@weft/api';

/** True when one of the bundle's roots has the CA hash the join token carries. */
export function bundleHasCaHash(bundlePems: readonly string[], caHash: string): boolean {
  return bundlePems.some((pem) => {
    try {
      return caHashOfCertificate(pem) === caHash;
    } catch {
      return false;
    }
  });
}

/**
 * Checks a chain (leaf first, PEM) against the bundle: each certificate signed by the next, the last by a
 * bundle root, all in their validity period, and the leaf carrying `expectedUri` as its SAN. Returns
 * what is wrong, or undefined.
 */
export function chainProblem(chainPem: string, bundlePems: readonly string[], expectedUri: string, now = new Date()): string | undefined {
  let chain: X509Certificate[];
  let roots: X509Certificate[];
  try {
    chain = (chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((p) => new X509Certificate(p));
    roots = bundlePems.map((p) => new X509Certificate(p));
  } catch (e) {
    return `not a PEM certificate (${(e as Error).message})`;
  }
  const leaf = chain[0];
  if (!leaf) return 'the chain holds no certificate';
  for (const c of chain) {
    if (now < new Date(c.validFrom) || now > new Date(c.validTo)) return `certificate ${c.subject.replace(/\n/g, ', ')} is not valid now (${c.validFrom} to ${c.validTo})`;
  }
  for (let i = 0; i + 1 < chain.length; i++) {
    if (!chain[i]!.checkIssued(chain[i + 1]!) || !chain[i]!.verify(chain[i + 1]!.publicKey)) return `certificate ${i + 1} of the chain is not signed by the next`;
  }
  const last = chain[chain.length - 1]!;
  const anchored = roots.some((r) => (last.fingerprint256 === r.fingerprint256) || (last.checkIssued(r) && last.verify(r.publicKey)));
  if (!anchored) return 'the chain does not lead to a root of the trust bundle';
  const uris = (leaf.subjectAltName ?? '').split(', ').filter((n) => n.startsWith('URI:')).map((n) => n.slice(4));
  if (!uris.includes(expectedUri)) return `the certificate is for ${uris.join(', ') || 'no URI'}, not ${expectedUri}`;
  return undefined;
}
