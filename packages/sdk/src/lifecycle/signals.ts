// Draining on the signal every orchestrator stops a process with. A mesh that opted in (the default)
// is closed, which deregisters it, waits for weftd to push the new view, and finishes in-flight
// requests, before the process goes. One process-wide listener per signal serves every mesh.
//
// When the app has no listener of its own for the signal, the signal is raised again once the meshes
// are closed, so the process ends the way it would have without Weft (killed by SIGTERM, exit 143).
// When the app listens too, exiting is the app's decision.

interface Closable {
  close(): Promise<void>;
}

const meshesBySignal = new Map<NodeJS.Signals, Set<Closable>>();
const handlers = new Map<NodeJS.Signals, () => void>();

export function closeOnSignals(mesh: Closable, signals: readonly NodeJS.Signals[]): void {
  for (const signal of signals) {
    let meshes = meshesBySignal.get(signal);
    if (!meshes) meshesBySignal.set(signal, (meshes = new Set()));
    meshes.add(mesh);
    if (!handlers.has(signal)) {
      const handler = () => onSignal(signal);
      handlers.set(signal, handler);
      process.on(signal, handler);
    }
  }
}

/** A closed mesh no longer holds the signal; the listener goes with the last mesh. */
export function forgetOnSignals(mesh: Closable): void {
  for (const [signal, meshes] of meshesBySignal) {
    meshes.delete(mesh);
    if (meshes.size === 0) removeHandler(signal);
  }
}

function removeHandler(signal: NodeJS.Signals): void {
  const handler = handlers.get(signal);
  if (handler) process.off(signal, handler);
  handlers.delete(signal);
  meshesBySignal.delete(signal);
}

function onSignal(signal: NodeJS.Signals): void {
  const meshes = [...(meshesBySignal.get(signal) ?? [])];
  removeHandler(signal);
  void Promise.allSettled(meshes.map((m) => m.close())).then(() => {
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  });
}
