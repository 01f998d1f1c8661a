import dns from 'node:dns';
import { BlockList, isIP, SocketAddress, type LookupFunction } from 'node:net';
import type { WebhookAddresses } from '../config/config.js';

/** The kinds of address a webhook may be refused; which ones are refused depends on the mode. */
export type RefusedAddressKind = 'link-local' | 'unspecified' | 'multicast' | 'broadcast' | 'loopback' | 'private';

type Family = 'ipv4' | 'ipv6';

/**
 * The ranges of each kind. BlockList checks an IPv4-mapped IPv6 address (::ffff:169.254.169.254)
 * against the IPv4 ranges, so those forms are refused with the address they map.
 */
const RANGES: Record<RefusedAddressKind, [address: string, prefix: number, family: Family][]> = {
  // 169.254.169.254 is where cloud metadata services hand out credentials.
  'link-local': [
    ['169.254.0.0', 16, 'ipv4'],
    ['fe80::', 10, 'ipv6'],
  ],
  unspecified: [
    ['0.0.0.0', 8, 'ipv4'],
    ['::', 128, 'ipv6'],
  ],
  multicast: [
    ['224.0.0.0', 4, 'ipv4'],
    ['ff00::', 8, 'ipv6'],
  ],
  broadcast: [['255.255.255.255', 32, 'ipv4']],
  loopback: [
    ['127.0.0.0', 8, 'ipv4'],
    ['::1', 128, 'ipv6'],
  ],
  private: [
    ['10.0.0.0', 8, 'ipv4'],
    ['172.16.0.0', 12, 'ipv4'],
    ['192.168.0.0', 16, 'ipv4'],
    ['100.64.0.0', 10, 'ipv4'],
    ['fc00::', 7, 'ipv6'],
  ],
};

/**
 * Refused whatever the mode: nothing a receiver listens on, and link-local is the metadata
 * service. Loopback and private networks are where a self-hosted server's bridge usually is,
 * so only `public` mode refuses them.
 */
const REFUSED: Record<WebhookAddresses, readonly RefusedAddressKind[]> = {
  private: ['link-local', 'unspecified', 'multicast', 'broadcast'],
  public: ['link-local', 'unspecified', 'multicast', 'broadcast', 'loopback', 'private'],
};

/**
 * An attempt's connection went to, or would have gone to, a refused address; in `public` mode,
 * also a host name that did not resolve (`kind` 'unresolved', the lookup's error as `detail`).
 * Its message is the delivery's `last_error`, the same for every refusal: it must not tell a team
 * what a name resolved to, nor, where internal names are refused, which of them exist. The
 * address (or name), kind and detail are for the server's log.
 */
export class AddressNotAllowedError extends Error {
  readonly code = 'ERR_WEBHOOK_ADDRESS_NOT_ALLOWED';
  constructor(
    readonly address: string,
    readonly kind: RefusedAddressKind | 'unresolved',
    readonly detail?: string,
  ) {
    super('address not allowed: this endpoint has no address webhooks may be sent to');
    this.name = 'AddressNotAllowedError';
  }
}

/** Which addresses webhooks may reach (ROOMLINE_WEBHOOK_ADDRESSES), checked when a webhook is defined and at each connection. */
export interface AddressPolicy {
  readonly mode: WebhookAddresses;
  /** Why webhooks may not reach this IP address, or undefined when they may. */
  refusal(address: string): RefusedAddressKind | undefined;
  /** What the URL alone shows: a refused IP-literal host, or `localhost` (loopback by name) in public mode. */
  endpointRefusal(url: URL): RefusedAddressKind | undefined;
  /**
   * dns.lookup answering only the addresses webhooks may reach, or AddressNotAllowedError when
   * none is left: given to the dispatcher's connections, it checks the address actually
   * connected to, at that moment, so a name that changes what it resolves to gains nothing.
   */
  lookup: LookupFunction;
}

export function createAddressPolicy(mode: WebhookAddresses): AddressPolicy {
  const lists = REFUSED[mode].map(function blockListOf(kind) {
    const list = new BlockList();
    for (const [address, prefix, family] of RANGES[kind]) {
      list.addSubnet(address, prefix, family);
      // The same IPv4 range in the IPv6 forms that carry an IPv4 address to it: on a network
      // with a NAT64 gateway, 64:ff9b::a9fe:a9fe is 169.254.169.254.
      if (family === 'ipv4') {
        for (const embedding of IPV4_IN_IPV6) if (embedding.carries(address)) list.addSubnet(embedding.address(address), embedding.prefix(prefix), 'ipv6');
      }
    }
    return { kind, list };
  });

  function refusal(address: string): RefusedAddressKind | undefined {
    const version = isIP(address);
    if (version === 0) return undefined;
    // Parsed once for every list: each check of a text parses it anew.
    const parsed = new SocketAddress({ address, family: version === 4 ? 'ipv4' : 'ipv6' });
    return lists.find(({ list }) => list.check(parsed))?.kind;
  }

  function endpointRefusal(url: URL): RefusedAddressKind | undefined {
    const address = literalAddress(url);
    if (address !== undefined) return refusal(address);
    return LOCALHOST.test(url.hostname) && REFUSED[mode].includes('loopback') ? 'loopback' : undefined;
  }

  const lookup: LookupFunction = function lookupAllowedAddresses(hostname, options, callback) {
    dns.lookup(hostname, { ...options, all: true }, function keepAllowedAddresses(error, addresses) {
      if (error !== null) {
        // Told apart from a refused name, a failed lookup would let a team list which internal
        // names the server's resolver knows.
        const refusedAlike = REFUSED[mode].includes('private') ? new AddressNotAllowedError(hostname, 'unresolved', `${error.code ?? ''} ${error.message}`.trim()) : error;
        callback(refusedAlike, options.all === true ? [] : '');
        return;
      }
      // Of a name's addresses only the allowed ones are tried; it is refused when none is.
      const allowed = addresses.filter(({ address }) => refusal(address) === undefined);
      const first = allowed[0];
      const refused = addresses[0];
      if (first === undefined && refused !== undefined) {
        callback(new AddressNotAllowedError(refused.address, refusal(refused.address)!), options.all === true ? [] : '');
      } else if (options.all === true || first === undefined) {
        callback(null, allowed);
      } else {
        callback(null, first.address, first.family);
      }
    });
  };

  return { mode, refusal, endpointRefusal, lookup };
}

/**
 * The IPv6 forms that embed an IPv4 address, each as the address of an IPv4 one and the prefix
 * of an IPv4 range's length: NAT64's well-known prefix (64:ff9b::/96, RFC 6052) and its local-use
 * prefix (64:ff9b:1::/48, RFC 8215, where the address skips the zero bits 64–71), 6to4
 * (2002::/16, RFC 3056) and the deprecated IPv4-compatible form (::/96), which does not carry
 * 0.0.0.0/8: there it would be ::1 and :: themselves, IPv6's own loopback and unspecified.
 */
const IPV4_IN_IPV6: ReadonlyArray<{ carries: (ipv4: string) => boolean; address: (ipv4: string) => string; prefix: (ipv4Prefix: number) => number }> = [
  { carries: () => true, address: (ipv4) => withOctets(ipv4, (a, b, c, d) => `64:ff9b::${hex(a, b)}:${hex(c, d)}`), prefix: (p) => 96 + p },
  {
    carries: () => true,
    address: (ipv4) => withOctets(ipv4, (a, b, c, d) => `64:ff9b:1:${hex(a, b)}:${hex(0, c)}:${hex(d, 0)}::`),
    prefix: (p) => (p <= 16 ? 48 + p : 56 + p),
  },
  { carries: () => true, address: (ipv4) => withOctets(ipv4, (a, b, c, d) => `2002:${hex(a, b)}:${hex(c, d)}::`), prefix: (p) => 16 + p },
  { carries: (ipv4) => !ipv4.startsWith('0.'), address: (ipv4) => withOctets(ipv4, (a, b, c, d) => `::${hex(a, b)}:${hex(c, d)}`), prefix: (p) => 96 + p },
];

function withOctets(ipv4: string, form: (a: number, b: number, c: number, d: number) => string): string {
  const [a, b, c, d] = ipv4.split('.').map(Number) as [number, number, number, number];
  return form(a, b, c, d);
}

/** Two octets as one IPv6 group. */
function hex(high: number, low: number): string {
  return ((high << 8) | low).toString(16);
}

/** `localhost` and names under it are loopback by definition (RFC 6761), whatever DNS says. */
const LOCALHOST = /^(.+\.)?localhost\.?$/i;

/** The URL's host when it is an IP address (the parser has normalised it: `http://2852039166/` is 169.254.169.254), without brackets. */
export function literalAddress(url: URL): string | undefined {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return isIP(host) !== 0 ? host : undefined;
}
