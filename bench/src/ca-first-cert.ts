// ca.first_cert_ms: how long createMesh with a join token takes, from its call to its first certificate
// (the promise resolves only once the certificate is held): session, Welcome with the trust bundle, the
// CA hash check, a P-256 key and CSR made in the workload, weftd's token check and signing, and the
// chain check. ca.first_cert_baseline_ms is createMesh without a token (trusting weftd by its ca.pem) on
// the same weftd, so the difference is what enrolment adds. Meshes are made one after another; the median is reported.
import { createMesh } from '@weft/sdk';
import { createToken, percentile, type Daemon } from './util.js';

const MESHES = 30;

async function timeCreateMesh(daemon: Daemon, token: string | undefined): Promise<number> {
  const start = performance.now();
  const mesh = await createMesh({ service: 'bench-client', namespace: 'bench', serviceAccount: 'bench-workload', controlPlane: daemon.grpc, ...(token ? { token } : { caFile: daemon.caFile }), shutdownSignals: [] });
  const ms = performance.now() - start;
  if (token && !mesh.status().identity) throw new Error('createMesh resolved without a certificate');
  await mesh.close();
  return ms;
}

export async function benchFirstCert(daemon: Daemon): Promise<Record<string, number>> {
  const token = await createToken(daemon.admin, 'bench-workload');
  await timeCreateMesh(daemon, token); // warm-up: module loading, JIT, weftd's first signing
  const withToken: number[] = [];
  const without: number[] = [];
  for (let i = 0; i < MESHES; i++) {
    withToken.push(await timeCreateMesh(daemon, token));
    without.push(await timeCreateMesh(daemon, undefined));
  }
  const round = (v: number) => Math.round(v * 10) / 10;
  return { 'ca.first_cert_ms': round(percentile(withToken.sort((a, b) => a - b), 50)), 'ca.first_cert_p99_ms': round(percentile(withToken, 99)), 'ca.first_cert_baseline_ms': round(percentile(without.sort((a, b) => a - b), 50)) };
}
