import { expect } from 'chai';
import {
  CONFIG_RESOURCE_OVERHEAD_BYTES,
  controlPlaneService,
  ENDPOINTS_PART_BYTES,
  MAX_ADMIN_BODY_BYTES,
  MAX_CLIENT_MESSAGE_BYTES,
  MAX_ENDPOINT_ADDRESS_LENGTH,
  MAX_ENDPOINTS_PER_SESSION,
  MAX_HOST_LENGTH,
  MAX_INSTANCE_ID_LENGTH,
  MAX_LABEL_KEY_PREFIX_LENGTH,
  MAX_LABEL_NAME_LENGTH,
  MAX_LABEL_VALUE_LENGTH,
  MAX_LABELS,
  MAX_NACK_ERROR_LENGTH,
  MAX_SDK_VERSION_LENGTH,
  MAX_SERVER_MESSAGE_BYTES,
  MAX_SERVICE_ACCOUNT_LENGTH,
  MAX_STORED_CONFIG_BYTES,
  MAX_SUBSCRIPTIONS_PER_SESSION,
  MAX_WORKLOAD_NAME_LENGTH,
} from './index.js';

const method = controlPlaneService['Session']!;
const requestBytes = (msg: object) => method.requestSerialize(msg).length;
const responseBytes = (msg: object) => method.responseSerialize(msg).length;

/** The largest labels a Hello may carry: every key and value at its longest. */
const labels = Object.fromEntries(
  Array.from({ length: MAX_LABELS }, (_, i) => [`${'p'.repeat(MAX_LABEL_KEY_PREFIX_LENGTH - 4)}${String(i).padStart(4, '0')}/${'n'.repeat(MAX_LABEL_NAME_LENGTH)}`, 'v'.repeat(MAX_LABEL_VALUE_LENGTH)]),
);
const workload = {
  instanceId: 'i'.repeat(MAX_INSTANCE_ID_LENGTH),
  service: 's'.repeat(63),
  namespace: 'n'.repeat(63),
  labels,
  serviceAccount: 'a'.repeat(MAX_SERVICE_ACCOUNT_LENGTH),
  workloadName: 'w'.repeat(MAX_WORKLOAD_NAME_LENGTH),
};
const endpoint = { address: 'a'.repeat(MAX_ENDPOINT_ADDRESS_LENGTH), port: 65535, protocol: 'http2', servicePort: 65535 };

describe('limits: what weftd accepts it can deliver', () => {
  it('the largest Hello, RegisterEndpoints, Subscribe and NACK each fit in one client message', () => {
    expect(requestBytes({ hello: { workload, sdkVersion: 'v'.repeat(MAX_SDK_VERSION_LENGTH), resume: true, acceptsConfigDeltas: true, acceptsSplitEndpoints: true } })).to.be.below(MAX_CLIENT_MESSAGE_BYTES / 16);
    expect(requestBytes({ register: { endpoints: Array.from({ length: MAX_ENDPOINTS_PER_SESSION }, () => endpoint) } })).to.be.below(MAX_CLIENT_MESSAGE_BYTES / 4);
    // An older SDK sends all its hosts in one Subscribe on reconnect: even the most a session may hold fit.
    expect(requestBytes({ subscribe: { hosts: Array.from({ length: MAX_SUBSCRIPTIONS_PER_SESSION }, () => 'h'.repeat(MAX_HOST_LENGTH)) } })).to.be.below(MAX_CLIENT_MESSAGE_BYTES);
    expect(requestBytes({ ack: { type: 'config', version: '1', nonce: 'n', error: 'e'.repeat(MAX_NACK_ERROR_LENGTH * 4) } })).to.be.below(MAX_CLIENT_MESSAGE_BYTES);
  });

  it('the whole stored config, and a delta replacing all of it, fit in one server message', () => {
    // The framing of a Resource message is within the overhead counted per resource.
    const resource = { kind: 'VirtualService', apiVersion: 'networking.istio.io/v1', namespace: 'n'.repeat(63), name: 'x'.repeat(253), version: String(2 ** 53), specJson: '', createdMs: 2 ** 52 };
    const framing = responseBytes({ config: { version: '1', nonce: 'n', resources: [resource, resource], delta: false, baseVersion: '', removed: [] } }) - responseBytes({ config: { version: '1', nonce: 'n', resources: [resource], delta: false, baseVersion: '', removed: [] } });
    const textBytes = resource.kind.length + resource.apiVersion.length + resource.namespace.length + resource.name.length;
    expect(framing - textBytes).to.be.at.most(CONFIG_RESOURCE_OVERHEAD_BYTES);
    expect(2 * MAX_STORED_CONFIG_BYTES + 64 * 1024).to.be.below(MAX_SERVER_MESSAGE_BYTES);
    expect(MAX_ADMIN_BODY_BYTES).to.be.at.most(MAX_STORED_CONFIG_BYTES);
  });

  it('a part of an EndpointsUpdate with one more instance of the largest kind fits in one server message', () => {
    const instance = { instanceId: workload.instanceId, workloadName: workload.workloadName, labels, serviceAccount: workload.serviceAccount, endpoint };
    const one = responseBytes({ endpoints: { version: '1', nonce: 'n', hosts: [{ host: 'h'.repeat(MAX_HOST_LENGTH), instances: [instance] }], more: true } });
    expect(ENDPOINTS_PART_BYTES + one).to.be.below(MAX_SERVER_MESSAGE_BYTES);
  });
});
