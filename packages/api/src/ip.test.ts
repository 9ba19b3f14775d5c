import { expect } from 'chai';
import { ipInBlock, parseIp, parseIpBlock, type IpBlock } from './ip.js';

function block(s: string): IpBlock {
  const b = parseIpBlock(s);
  if (typeof b === 'string') throw new Error(b);
  return b;
}
function inside(ip: string, cidr: string): boolean {
  return ipInBlock(parseIp(ip)!, block(cidr));
}

describe('ip blocks', () => {
  it('matches IPv4 and IPv6 addresses against blocks of any prefix length', () => {
    expect(inside('10.1.2.3', '10.0.0.0/8')).to.equal(true);
    expect(inside('11.1.2.3', '10.0.0.0/8')).to.equal(false);
    expect(inside('10.0.0.129', '10.0.0.128/25')).to.equal(true);
    expect(inside('10.0.0.127', '10.0.0.128/25')).to.equal(false);
    expect(inside('10.0.0.1', '10.0.0.1')).to.equal(true);
    expect(inside('10.0.0.2', '10.0.0.1')).to.equal(false);
    expect(inside('1.2.3.4', '0.0.0.0/0')).to.equal(true);
    expect(inside('2001:db8::1', '2001:db8::/32')).to.equal(true);
    expect(inside('2001:db9::1', '2001:db8::/32')).to.equal(false);
    expect(inside('::1', '::1/128')).to.equal(true);
  });

  it('reads an IPv4 caller on a dual-stack socket (::ffff:a.b.c.d) as the IPv4 address', () => {
    expect(inside('::ffff:127.0.0.1', '127.0.0.0/8')).to.equal(true);
    expect(inside('127.0.0.1', '::ffff:127.0.0.1')).to.equal(true);
    // An IPv4 /0 covers IPv4 only, not every IPv6 address.
    expect(inside('2001:db8::1', '0.0.0.0/0')).to.equal(false);
  });

  it('refuses what is not an address or block', () => {
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.4/', '1.2.3.4/-1', '::1/129', 'a::b::c', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0', 'localhost']) {
      expect(parseIpBlock(bad), bad).to.be.a('string');
    }
  });
});
