// weftd's own certificate, from its own CA: what the session port and the admin API serve TLS with.
// Its identity is weftdSpiffeId (spiffe://<td>/ns/istio-system/sa/weftd), which is what workloads and
// weftctl check (weftd may be reached by any address); it also names localhost, this host and the
// loopback and bind addresses, so that ordinary tools (curl --cacert) accept it by host name too.
// The key is made here and never written down; the certificate is renewed at half its lifetime and
// re-issued at once when the trust bundle changes (a root rotation), and every holder is told.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { isDnsSubdomain, weftdSpiffeId } from '@weft/api';
import type { MeshCa } from './mesh-ca.js';

export interface ServingMaterial {
  keyPem: string;
  /** weftd's certificate, then the chain up to and including the root (so a client that pins the root's hash finds it). */
  chainPem: string;
  /** Every root of the trust bundle: what client certificates are verified against. */
  bundlePem: string;
  notAfter: Date;
}

export interface WeftdCertificateOptions {
  /** The address weftd listens on (--host): named in the certificate when it is a specific IP. */
  host: string;
  ttlSeconds: number;
  log: (message: string) => void;
  /** Retry delay after a failed renewal. Default 10 s. */
  retryMs?: number;
}

export class WeftdCertificate {
  private material!: ServingMaterial;
  private readonly listeners = new Set<(m: ServingMaterial) => void>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly stopWatchingBundle: () => void;

  private constructor(
    private readonly ca: MeshCa,
    private readonly opts: WeftdCertificateOptions,
  ) {
    this.stopWatchingBundle = ca.onBundleChange(() => void this.renew());
  }

  static async issue(ca: MeshCa, opts: WeftdCertificateOptions): Promise<WeftdCertificate> {
    const cert = new WeftdCertificate(ca, opts);
    await cert.renewNow();
    return cert;
  }

  get current(): ServingMaterial {
    return this.material;
  }

  /** Called with each new certificate (and bundle). */
  onChange(listener: (m: ServingMaterial) => void): void {
    this.listeners.add(listener);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.stopWatchingBundle();
  }

  private async renew(): Promise<void> {
    try {
      await this.renewNow();
      for (const l of this.listeners) l(this.material);
    } catch (e) {
      if (this.closed) return;
      this.opts.log(`renewing weftd's own certificate failed: ${(e as Error).message}; retrying in ${(this.opts.retryMs ?? 10_000) / 1000} s`);
      this.schedule(this.opts.retryMs ?? 10_000);
    }
  }

  private async renewNow(): Promise<void> {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const issued = await this.ca.issueServerCertificate(publicKey, weftdSpiffeId(this.ca.trustDomain), dnsNames(), ipAddresses(this.opts.host), this.opts.ttlSeconds);
    this.material = { keyPem: pem(privateKey), chainPem: issued.chainPem, bundlePem: this.ca.bundle.pem, notAfter: issued.notAfter };
    const lifetime = issued.notAfter.getTime() - Date.now();
    this.schedule(Math.max(1000, lifetime / 2));
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    if (this.closed) return;
    this.timer = setTimeout(() => void this.renew(), Math.min(ms, 2 ** 31 - 1));
    this.timer.unref();
  }
}

function pem(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'pkcs8' }) as string;
}

function dnsNames(): string[] {
  const own = hostname().toLowerCase();
  return ['localhost', ...(own !== 'localhost' && isDnsSubdomain(own) ? [own] : [])];
}

function ipAddresses(host: string): string[] {
  const ips = ['127.0.0.1', '::1'];
  if (isIP(host) && host !== '0.0.0.0' && host !== '::' && !ips.includes(host)) ips.push(host);
  return ips;
}
