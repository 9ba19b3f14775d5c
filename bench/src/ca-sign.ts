// ca.sign_per_s: how many workload CSRs the mesh CA turns into certificates a second, in one process,
// as weftd will: each CSR parsed and its self-signature verified, the certificate built (forge's ASN.1)
// and signed (Node's native ECDSA P-256). Every CSR carries its own key, as real workloads' do, so no
// cache of a parsed key can flatter the figure. Rounds alternate with the RSA-2048 root variant; the
// median round is reported. Run alone: `node bench/dist/ca-sign.js`.
import { fileURLToPath } from 'node:url';
import { CertificateAuthority, createWorkloadKey, spiffeId } from '@weft/ca';

export interface CaSignOptions {
  seconds: number;
  rounds: number;
}

const CSRS = 200;

function signLoop(ca: CertificateAuthority, csrs: string[], ms: number): number {
  const id = spiffeId({ namespace: 'bench', serviceAccount: 'bench-workload' });
  const start = performance.now();
  let n = 0;
  // Check the clock every 50 signings: a signing is ~0.5-1 ms, so a round overshoots by well under 1 %.
  while (performance.now() - start < ms) {
    for (let i = 0; i < 50; i++) ca.signCsr(csrs[n++ % csrs.length]!, id);
  }
  return n / ((performance.now() - start) / 1000);
}

export function benchCaSign(options: CaSignOptions): Record<string, number> {
  const csrs = Array.from({ length: CSRS }, () => createWorkloadKey().csrPem);
  const variants = { ec: CertificateAuthority.createRoot(), rsa: CertificateAuthority.createRoot({ keyAlgorithm: 'rsa-2048' }) };
  for (const ca of Object.values(variants)) signLoop(ca, csrs, 300); // JIT warm-up
  const runs: Record<keyof typeof variants, number[]> = { ec: [], rsa: [] };
  for (let r = 0; r < options.rounds; r++) {
    for (const name of r % 2 === 0 ? (['ec', 'rsa'] as const) : (['rsa', 'ec'] as const)) runs[name].push(signLoop(variants[name], csrs, options.seconds * 1000));
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { 'ca.sign_per_s': Math.round(median(runs.ec)), 'ca.sign_rsa_root_per_s': Math.round(median(runs.rsa)) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [k, v] of Object.entries(benchCaSign({ seconds: 2, rounds: 3 }))) console.log(`${k.padEnd(28)} ${v}`);
}
