// RANDOM: uniform over the list.
import type { Endpoint } from './endpoint.js';
import type { Picker } from './balancer.js';

export class RandomPicker implements Picker {
  constructor(private readonly endpoints: readonly Endpoint[]) {}

  pick(): Endpoint | undefined {
    const n = this.endpoints.length;
    return n === 0 ? undefined : this.endpoints[Math.floor(Math.random() * n)];
  }
}

export const random = (endpoints: readonly Endpoint[]): Picker => new RandomPicker(endpoints);
