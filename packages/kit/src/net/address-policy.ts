/** Which outbound addresses and URLs a service may reach for a user-given target (SSRF). No I/O. */
import ipaddr from "ipaddr.js";

export interface OutboundPolicy {
  /** Plain http:// receivers (tests, internal relays); https otherwise. */
  allowHttp: boolean;
  /** Addresses let through even though they are loopback/private/link-local (e.g. 127.0.0.1/32 in tests). */
  allow: readonly [ipaddr.IPv4 | ipaddr.IPv6, number][];
}

export function parseAllowList(entries: readonly string[]): OutboundPolicy["allow"] {
  return entries.map((e) => {
    const cidr = e.includes("/") ? e : `${e}/${ipaddr.parse(e).kind() === "ipv4" ? 32 : 128}`;
    return ipaddr.parseCIDR(cidr);
  });
}

export type Verdict = { ok: true } | { ok: false; reason: string };

/**
 * Only public unicast addresses, unless allow-listed. Refuses loopback, private (RFC 1918, fc00::/7),
 * link-local (which holds the cloud metadata address 169.254.169.254), CGNAT, multicast, reserved.
 */
export function checkAddress(ip: string, policy: Pick<OutboundPolicy, "allow">): Verdict {
  if (!ipaddr.isValid(ip)) return { ok: false, reason: `${ip} is not an IP address` };
  let addr = ipaddr.parse(ip);
  if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress())
    addr = (addr as ipaddr.IPv6).toIPv4Address();
  for (const [net, bits] of policy.allow) {
    if (net.kind() === addr.kind() && addr.match([net, bits] as never)) return { ok: true };
  }
  const range = addr.range();
  if (range === "unicast") return { ok: true };
  return {
    ok: false,
    reason: `address ${addr.toString()} is ${range}, which outbound connections may not reach`,
  };
}

/** Scheme and literal-address checks on a receiver URL; host names are checked again after DNS. */
export function checkUrl(raw: string, policy: OutboundPolicy): Verdict & { url?: URL } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "not a URL" };
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && policy.allowHttp)) {
    return { ok: false, reason: policy.allowHttp ? "must be http(s)" : "must be https" };
  }
  const v = checkHost(url.hostname, policy);
  return v.ok ? { ok: true, url } : v;
}

/**
 * A host (of a URL, or an SMTP server) given as a literal address or as `localhost`: checked as
 * that address. Other names are checked after DNS, when connecting.
 */
export function checkHost(rawHost: string, policy: Pick<OutboundPolicy, "allow">): Verdict {
  const host = rawHost.replace(/^\[|\]$/g, "").toLowerCase();
  if (ipaddr.isValid(host)) return checkAddress(host, policy);
  if (host === "localhost" || host.endsWith(".localhost")) return checkAddress("127.0.0.1", policy);
  return { ok: true };
}
