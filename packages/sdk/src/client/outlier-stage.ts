// Outlier stage: tells the request's cluster how its endpoint did (DestinationRule outlierDetection,
// outlier-detector.ts), right above the transport: the HTTP status of an answer, or a failure that
// originated here (UF: could not connect, UR: reset, UT: timed out, as WeftErrors carry them). A request
// the caller cancelled says nothing about the endpoint and is not reported (nor does Envoy report it);
// neither are requests refused before they left (connection-pool overflow), which never get here.
// Ejections take effect at once: the cluster's picker is rebuilt without the endpoint.
import { isWeftError } from '../errors.js';
import type { OutlierResult } from './outlier-detector.js';
import type { Handler, Layer } from './pipeline.js';

const CONNECT_FAILURE: OutlierResult = Object.freeze({ kind: 'connect-failure' });
const RESET: OutlierResult = Object.freeze({ kind: 'reset' });
const TIMEOUT: OutlierResult = Object.freeze({ kind: 'timeout' });

/** What a failure says of the endpoint, by its Envoy flag; undefined when it says nothing. */
export function localOriginResult(e: unknown): OutlierResult | undefined {
  if (!isWeftError(e)) return undefined;
  const flags = e.flag.split(',');
  if (flags.includes('UT')) return TIMEOUT;
  if (flags.includes('UF')) return CONNECT_FAILURE;
  if (flags.includes('UR')) return RESET;
  return undefined;
}

export function outlierStage(): Layer {
  return (next: Handler) => (req) => {
    const detector = req.cluster?.outlier;
    if (detector === undefined) return next(req);
    const ep = req.endpoint!;
    return next(req).then(
      (res) => {
        detector.report(ep, { kind: 'status', status: res.statusCode });
        return res;
      },
      (e: unknown) => {
        const result = localOriginResult(e);
        if (result !== undefined) detector.report(ep, result);
        throw e;
      },
    );
  };
}
