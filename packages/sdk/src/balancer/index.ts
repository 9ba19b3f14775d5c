// The built-in balancers, registered once on import.
import { registerBalancer } from './balancer.js';
import { leastRequest } from './least-request.js';
import { random } from './random.js';
import { roundRobin } from './round-robin.js';

registerBalancer('ROUND_ROBIN', roundRobin);
registerBalancer('LEAST_REQUEST', leastRequest);
registerBalancer('RANDOM', random);

export { registerBalancer, getBalancer, canonicalBalancerName, DEFAULT_BALANCER, EMPTY_PICKER } from './balancer.js';
export type { Picker, BalancerFactory } from './balancer.js';
export type { Endpoint } from './endpoint.js';
