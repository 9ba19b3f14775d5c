import { expect } from 'chai';
import { validationIssues } from '../validation-issues.js';
import { isPrime } from './destination-rule-traffic.js';

function issuesOf(spec: unknown): string[] {
  return validationIssues({ apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'r', namespace: 'shop' }, spec });
}
const policy = (trafficPolicy: unknown) => issuesOf({ host: 'reviews', trafficPolicy });
const subsetPolicy = (trafficPolicy: unknown) => issuesOf({ host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' }, trafficPolicy }] });

describe('DestinationRule trafficPolicy: connectionPool, outlierDetection, loadBalancer, portLevelSettings', () => {
  it("accepts Istio's circuit-breaking task rule and every supported field, per rule, per subset and per port", () => {
    const circuitBreaking = {
      connectionPool: { tcp: { maxConnections: 1 }, http: { http1MaxPendingRequests: 1, maxRequestsPerConnection: 1 } },
      outlierDetection: { consecutive5xxErrors: 1, interval: '1s', baseEjectionTime: '3m', maxEjectionPercent: 100 },
    };
    expect(policy(circuitBreaking)).to.deep.equal([]);
    const everything = {
      connectionPool: {
        tcp: { maxConnections: 100, connectTimeout: '30ms', idleTimeout: '1h' },
        http: { http1MaxPendingRequests: 10, http2MaxRequests: 1000, maxRequestsPerConnection: 10, idleTimeout: '90s' },
      },
      outlierDetection: {
        consecutive5xxErrors: 7, consecutiveGatewayErrors: 3, consecutiveLocalOriginFailures: 2, splitExternalLocalOriginErrors: true,
        interval: '5m', baseEjectionTime: '15m', maxEjectionPercent: 50, minHealthPercent: 25,
      },
      loadBalancer: { simple: 'ROUND_ROBIN', warmup: { duration: '60s', minimumPercent: 12.5, aggression: 2 } },
      portLevelSettings: [
        { port: { number: 9080 }, loadBalancer: { consistentHash: { httpHeaderName: 'x-user', ringHash: { minimumRingSize: 4096 } } } },
        { port: { number: 9443 }, tls: { mode: 'SIMPLE' }, connectionPool: { http: { http2MaxRequests: 5 } } },
      ],
    };
    expect(policy(everything)).to.deep.equal([]);
    expect(subsetPolicy(everything)).to.deep.equal([]);
    for (const lb of [
      { simple: 'PEAK_EWMA' },
      { simple: 'LEAST_REQUEST', warmupDurationSecs: '30s' },
      { warmup: { duration: '1m' } },
      { consistentHash: { httpCookie: { name: 'user', path: '/', ttl: '0s' } } },
      { consistentHash: { httpCookie: { name: 'user', ttl: '10s', attributes: [{ name: 'SameSite', value: 'Strict' }, { name: 'Secure' }] } } },
      { consistentHash: { useSourceIp: true, maglev: { tableSize: 65537 } } },
      { consistentHash: { httpQueryParameterName: 'id', minimumRingSize: 2048 } },
    ]) expect(policy({ loadBalancer: lb }), JSON.stringify(lb)).to.deep.equal([]);
  });

  it('names what a consistent hash is missing or has twice', () => {
    expect(policy({ loadBalancer: { consistentHash: { ringHash: {} } } })).to.deep.equal([
      'spec.trafficPolicy.loadBalancer.consistentHash: names no hash key; set one of httpHeaderName, httpCookie, useSourceIp, httpQueryParameterName',
    ]);
    expect(policy({ loadBalancer: { consistentHash: { httpHeaderName: 'x-a', useSourceIp: true } } })).to.deep.equal([
      'spec.trafficPolicy.loadBalancer.consistentHash: set exactly one hash key; got httpHeaderName, useSourceIp',
    ]);
    expect(policy({ loadBalancer: { simple: 'RANDOM', consistentHash: { httpHeaderName: 'x-a' } } })[0]).to.match(/^spec\.trafficPolicy\.loadBalancer\.simple: cannot be combined with consistentHash/);
    expect(policy({ loadBalancer: { consistentHash: { useSourceIp: false } } })[0]).to.match(/useSourceIp: false selects no hash key/);
    expect(policy({ loadBalancer: { consistentHash: { httpHeaderName: 'X-User' } } })).to.deep.equal(['spec.trafficPolicy.loadBalancer.consistentHash.httpHeaderName: header names must be lower case']);
    expect(policy({ loadBalancer: { consistentHash: { httpCookie: { ttl: '1s' } } } })).to.deep.equal(['spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.name: is required']);
    expect(policy({ loadBalancer: { consistentHash: { httpCookie: { name: 'a b' } } } })[0]).to.match(/httpCookie\.name: "a b" is not a cookie name/);
  });

  it("checks ring hash and Maglev as Istio does: one algorithm, the deprecated ring size alone, a prime table below 5000011", () => {
    const at = 'spec.trafficPolicy.loadBalancer.consistentHash';
    expect(policy({ loadBalancer: { consistentHash: { httpHeaderName: 'x', ringHash: {}, maglev: { tableSize: 7 } } } })).to.deep.equal([`${at}: set one of ringHash and maglev, not both`]);
    expect(policy({ loadBalancer: { consistentHash: { httpHeaderName: 'x', minimumRingSize: 10, ringHash: {} } } })[0]).to.match(/minimumRingSize: is the deprecated form of ringHash\.minimumRingSize/);
    expect(policy({ loadBalancer: { consistentHash: { httpHeaderName: 'x', maglev: { tableSize: 65536 } } } })).to.deep.equal([`${at}.maglev.tableSize: must be a prime number, got 65536 (e.g. 65537, 131071)`]);
    expect(policy({ loadBalancer: { consistentHash: { httpHeaderName: 'x', maglev: { tableSize: 5000011 } } } })).to.deep.equal([`${at}.maglev.tableSize: must be less than 5000011, got 5000011`]);
    expect(policy({ loadBalancer: { consistentHash: { httpHeaderName: 'x', maglev: {} } } })[0]).to.match(/maglev\.tableSize: must be set for maglev/);
    expect(policy({ loadBalancer: { consistentHash: { httpHeaderName: 'x', ringHash: { minimumRingSize: 8388609 } } } })).to.deep.equal([`${at}.ringHash.minimumRingSize: must be at most 8388608, got 8388609`]);
    expect([2, 3, 5, 65537, 131071].every(isPrime)).to.equal(true);
    expect([0, 1, 4, 9, 65535, 65536].some(isPrime)).to.equal(false);
  });

  it('slow start only with ROUND_ROBIN or LEAST_REQUEST, one of warmup and warmupDurationSecs, in range', () => {
    const at = 'spec.trafficPolicy.loadBalancer';
    expect(policy({ loadBalancer: { simple: 'RANDOM', warmup: { duration: '10s' } } })).to.deep.equal([
      `${at}.warmup: slow start works with ROUND_ROBIN and LEAST_REQUEST only (Envoy's slow_start_config), not with RANDOM; remove it or change the balancer`,
    ]);
    expect(policy({ loadBalancer: { simple: 'PEAK_EWMA', warmupDurationSecs: '10s' } })[0]).to.match(/warmupDurationSecs: slow start works with .* not with PEAK_EWMA/);
    expect(policy({ loadBalancer: { warmup: { duration: '10s' }, warmupDurationSecs: '10s' } })[0]).to.match(/warmupDurationSecs: is the deprecated form of warmup\.duration/);
    expect(policy({ loadBalancer: { warmup: {} } })).to.deep.equal([`${at}.warmup.duration: is required`]);
    expect(policy({ loadBalancer: { warmup: { duration: '10s', minimumPercent: 101, aggression: 0.5 } } })).to.deep.equal([
      `${at}.warmup.minimumPercent: must be a number from 0 to 100, got 101`,
      `${at}.warmup.aggression: must be a number of at least 1 (1 ramps linearly), got 0.5`,
    ]);
    expect(policy({ loadBalancer: { warmup: { duration: '10s', aggression: '2' } } })[0]).to.match(/aggression: must be a number of at least 1/);
  });

  it('durations are whole milliseconds of at least 1ms; counts and percents are in range', () => {
    expect(policy({ connectionPool: { tcp: { connectTimeout: '0s' } } })).to.deep.equal(['spec.trafficPolicy.connectionPool.tcp.connectTimeout: "0s" must be at least 1ms']);
    expect(policy({ outlierDetection: { interval: '1.5ms' } })).to.deep.equal(['spec.trafficPolicy.outlierDetection.interval: "1.5ms" is finer than a millisecond; durations are whole milliseconds']);
    expect(policy({ outlierDetection: { baseEjectionTime: '30' } })[0]).to.match(/^spec\.trafficPolicy\.outlierDetection\.baseEjectionTime: invalid duration "30"/);
    expect(policy({ outlierDetection: { maxEjectionPercent: 101, minHealthPercent: -1 } })).to.deep.equal([
      'spec.trafficPolicy.outlierDetection.maxEjectionPercent: must be at most 100, got 101',
      'spec.trafficPolicy.outlierDetection.minHealthPercent: must be at least 0, got -1',
    ]);
    expect(policy({ connectionPool: { http: { http2MaxRequests: -1 } } })).to.deep.equal(['spec.trafficPolicy.connectionPool.http.http2MaxRequests: must be at least 0, got -1']);
    expect(policy({ connectionPool: {} })).to.deep.equal(['spec.trafficPolicy.connectionPool: sets nothing; give tcp or http settings (Istio refuses an empty connection pool)']);
  });

  it("refuses consecutiveLocalOriginFailures without the split, and the fields Weft does not act on, by their path", () => {
    expect(policy({ outlierDetection: { consecutiveLocalOriginFailures: 3 } })[0]).to.match(
      /^spec\.trafficPolicy\.outlierDetection\.consecutiveLocalOriginFailures: counts only with splitExternalLocalOriginErrors: true/,
    );
    expect(policy({ outlierDetection: { consecutiveErrors: 5 } })[0]).to.match(/consecutiveErrors: this Istio field is not supported by Weft yet: it is deprecated and Istio ignores it/);
    expect(policy({ connectionPool: { http: { h2UpgradePolicy: 'UPGRADE' } } })[0]).to.match(/h2UpgradePolicy: this Istio field is not supported by Weft yet: Weft speaks HTTP\/1\.1/);
    expect(policy({ connectionPool: { tcp: { tcpKeepalive: { time: '1s' } } } })[0]).to.match(/tcp\.tcpKeepalive: this Istio field is not supported by Weft yet/);
    expect(policy({ loadBalancer: { simple: 'PASSTHROUGH' } })[0]).to.match(/PASSTHROUGH is not supported by Weft yet/);
    expect(policy({ loadBalancer: { localityLbSetting: {} } })[0]).to.match(/localityLbSetting: this Istio field is not supported by Weft yet/);
  });

  it('portLevelSettings: a port, at least one setting, each port once, and the tls checks per port', () => {
    const at = 'spec.trafficPolicy.portLevelSettings';
    expect(policy({ portLevelSettings: [{ loadBalancer: { simple: 'RANDOM' } }] })).to.deep.equal([`${at}[0].port: is required`]);
    expect(policy({ portLevelSettings: [{ port: { number: 80 } }] })).to.deep.equal([
      `${at}[0]: sets nothing for its port; give at least one of loadBalancer, connectionPool, outlierDetection, tls`,
    ]);
    expect(policy({ portLevelSettings: [{ port: { number: 80 }, loadBalancer: { simple: 'RANDOM' } }, { port: { number: 80 }, tls: { mode: 'DISABLE' } }] })).to.deep.equal([
      `${at}[1].port.number: port 80 is already set by portLevelSettings[0]; Istio would use only the first, so merge the two`,
    ]);
    expect(policy({ portLevelSettings: [{ port: { number: 80 }, tls: { mode: 'MUTUAL' } }] })[0]).to.match(/^spec\.trafficPolicy\.portLevelSettings\[0\]\.tls\.clientCertificate: is required with mode MUTUAL/);
    expect(subsetPolicy({ portLevelSettings: [{ port: { number: 80 }, outlierDetection: { consecutiveLocalOriginFailures: 1 } }] })[0]).to.match(
      /^spec\.subsets\[0\]\.trafficPolicy\.portLevelSettings\[0\]\.outlierDetection\.consecutiveLocalOriginFailures: counts only/,
    );
    expect(policy({ portLevelSettings: [{ port: { number: 0 }, tls: { mode: 'DISABLE' } }] })).to.deep.equal([`${at}[0].port.number: must be at least 1, got 0`]);
  });
});
