// The built-in balancers, registered once on import. RING_HASH and MAGLEV are what a DestinationRule's
// consistentHash selects (loadBalancer.simple cannot name them); PEAK_EWMA is a Weft extension.
import { registerBalancer } from './balancer.js';
import { leastRequest } from './least-request.js';
import { maglev } from './maglev.js';
import { peakEwma } from './peak-ewma.js';
import { random } from './random.js';
import { ringHash } from './ring-hash.js';
import { roundRobin } from './round-robin.js';

registerBalancer('ROUND_ROBIN', roundRobin);
registerBalancer('LEAST_REQUEST', leastRequest);
registerBalancer('RANDOM', random);
registerBalancer('PEAK_EWMA', peakEwma);
registerBalancer('RING_HASH', ringHash);
registerBalancer('MAGLEV', maglev);

export { registerBalancer, getBalancer, canonicalBalancerName, DEFAULT_BALANCER, EMPTY_PICKER } from './balancer.js';
export type { Picker, BalancerFactory, BalancerOptions, PickContext } from './balancer.js';
export type { Endpoint } from './endpoint.js';
