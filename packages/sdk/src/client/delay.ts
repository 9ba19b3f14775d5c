// A wait inside the pipeline (a fault's delay, a retry's backoff) that ends at once when the call's
// signal aborts (the caller gave up, or the route's timeout ran out), with the signal's reason.

/** Resolves after `ms`, or rejects with `signal.reason` as soon as it aborts. */
export function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
