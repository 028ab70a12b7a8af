import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import type { LookupFunction } from "node:net";
import { checkAddress, checkUrl, type OutboundPolicy } from "@nexus/kit";
import { Agent, request } from "undici";

/** The receiver's address is not allowed: retrying cannot help. */
export class OutboundRefusedError extends Error {}

export interface OutboundOptions {
  policy: OutboundPolicy;
  timeoutMs: number;
  maxResponseBytes: number;
}

export interface OutboundResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The first maxResponseBytes of the body, as text. */
  body: string;
}

/**
 * Resolve, then check every address before connecting, so a name that resolves to a private
 * address (or is re-pointed there between a check and the connect) is refused at the socket.
 */
function guardedLookup(policy: OutboundPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, "", 0);
      for (const a of addresses) {
        const v = checkAddress(a.address, policy);
        if (!v.ok) return callback(new OutboundRefusedError(`${hostname}: ${v.reason}`), "", 0);
      }
      if ((options as { all?: boolean }).all)
        return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0];
      if (!first) return callback(new Error(`${hostname} has no address`), "", 0);
      callback(null, first.address, first.family);
    });
  };
}

/** HTTP POSTs to receivers through one guarded connection pool (undici). */
export function createOutbound(options: OutboundOptions) {
  const agent = new Agent({
    connect: { lookup: guardedLookup(options.policy), timeout: options.timeoutMs },
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    connections: 16,
  });

  return {
    policy: options.policy,
    async post(rawUrl: string, body: string, headers: Record<string, string>): Promise<OutboundResponse> {
      const checked = checkUrl(rawUrl, options.policy);
      if (!checked.ok) throw new OutboundRefusedError(checked.reason);
      try {
        const res = await request(rawUrl, {
          method: "POST",
          body,
          headers: { "content-type": "application/json", "user-agent": "nexus-notifier", ...headers },
          dispatcher: agent,
          signal: AbortSignal.timeout(options.timeoutMs),
        });
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of res.body) {
          const buf = chunk as Buffer;
          const room = options.maxResponseBytes - size;
          if (room <= 0) break;
          chunks.push(buf.subarray(0, room));
          size += Math.min(buf.length, room);
        }
        res.body.destroy();
        return { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") };
      } catch (err) {
        throw unwrapRefusal(err);
      }
    },
    close: () => agent.close(),
  };
}
export type Outbound = ReturnType<typeof createOutbound>;

/** undici wraps connect errors; find ours in the cause chain. */
function unwrapRefusal(err: unknown): unknown {
  let cur: unknown = err;
  for (let i = 0; i < 5 && cur; i++) {
    if (cur instanceof OutboundRefusedError) return cur;
    cur = (cur as { cause?: unknown }).cause;
  }
  return err;
}

/** For SMTP: resolve the host ourselves and check it; nodemailer then connects to that address. */
export async function resolveChecked(host: string, policy: OutboundPolicy): Promise<string> {
  const addresses = await new Promise<LookupAddress[]>((resolve, reject) =>
    dnsLookup(host, { all: true }, (err, a) => (err ? reject(err) : resolve(a))),
  );
  for (const a of addresses) {
    const v = checkAddress(a.address, policy);
    if (!v.ok) throw new OutboundRefusedError(`${host}: ${v.reason}`);
  }
  const first = addresses[0];
  if (!first) throw new Error(`${host} has no address`);
  return first.address;
}
