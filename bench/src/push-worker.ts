// Holds many SDK sessions in one process for the push-convergence benchmark and reports, for each
// config version, the wall-clock moment each session applied it.
import { createMesh, type Mesh } from '@weft/sdk';

const count = Number(process.argv[2] ?? '250');
const offset = Number(process.argv[3] ?? '0');
const meshes: Mesh[] = [];
const now = () => performance.timeOrigin + performance.now();

for (let i = 0; i < count; i++) {
  const mesh = await createMesh({ service: `client-${offset + i}`, namespace: 'bench', subscribe: ['echo'], initialTimeoutMs: 60000 });
  const id = offset + i;
  mesh.on('config', () => process.send!({ type: 'applied', id, version: mesh.status().configVersion, at: now() }));
  meshes.push(mesh);
}
process.send!({ type: 'ready', count });
process.on('message', (m: { type: string }) => {
  if (m.type === 'stop') void Promise.all(meshes.map((x) => x.close())).finally(() => process.exit(0));
});
