// Holds many SDK sessions in one process for the push-convergence benchmark and reports, for each
// config version, the wall-clock moment each session applied it. The moments are sent in one message
// once every session of this worker has applied the version, so reporting does not compete for the
// CPU with the sessions still applying it.
import { createMesh, type Mesh } from '@weft/sdk';

const count = Number(process.argv[2] ?? '250');
const offset = Number(process.argv[3] ?? '0');
const meshes: Mesh[] = [];
const now = () => performance.timeOrigin + performance.now();

const applied = new Map<string, number[]>();
let ready = false;
for (let i = 0; i < count; i++) {
  const mesh = await createMesh({ service: `client-${offset + i}`, namespace: 'bench', subscribe: ['echo'], initialTimeoutMs: 60000 });
  mesh.on('config', ({ version }: { version: string }) => {
    if (!ready) return;
    const at = now();
    const list = applied.get(version) ?? [];
    list.push(at);
    applied.set(version, list);
    if (list.length === count) {
      applied.delete(version);
      process.send!({ type: 'applied', version, at: list });
    }
  });
  meshes.push(mesh);
}
ready = true;
process.send!({ type: 'ready', count });
process.on('message', (m: { type: string }) => {
  if (m.type === 'stop') void Promise.all(meshes.map((x) => x.close())).finally(() => process.exit(0));
});
