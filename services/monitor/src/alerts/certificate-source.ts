import { connect } from "node:tls";
import type { Logger } from "@nexus/kit";
import type { SeenCertificate } from "./alert-types.js";

/** `host:port` (IPv6 in brackets) → what node:tls connects to. */
export function splitEndpoint(endpoint: string): { host: string; port: number } {
  const at = endpoint.lastIndexOf(":");
  const host = endpoint.slice(0, at).replace(/^\[(.*)\]$/, "$1");
  return { host, port: Number(endpoint.slice(at + 1)) };
}

/**
 * Connect, read the certificate the endpoint presents, hang up. Trust is not judged here (an
 * expired or self-signed certificate is exactly what we want to read), only its dates.
 */
export function readPeerCertificate(endpoint: string, timeoutMs: number): Promise<SeenCertificate> {
  const { host, port } = splitEndpoint(endpoint);
  return new Promise((resolve, reject) => {
    const socket = connect({
      host,
      port,
      rejectUnauthorized: false,
      ...(/^[\d.]+$|:/.test(host) ? {} : { servername: host }),
    });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no TLS handshake within ${timeoutMs} ms`)));
    socket.once("error", reject);
    socket.once("secureConnect", () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      if (!cert?.valid_to) return reject(new Error("the endpoint presented no certificate"));
      resolve({
        endpoint,
        validTo: new Date(cert.valid_to),
        subject: [cert.subject?.CN ?? ""].flat().join(", "),
        issuer: [cert.issuer?.CN ?? ""].flat().join(", "),
      });
    });
  });
}

/**
 * The certificates the `certificate_expiring` rules name, read in the background at most every
 * `refreshMs` (an evaluation never waits on a handshake). An endpoint that does not answer keeps
 * its last reading: an outage neither raises nor resolves certificate alerts (reaching it is
 * another rule's business).
 */
export function createCertificateSource(deps: { logger: Logger; refreshMs: number; timeoutMs?: number }) {
  const seen = new Map<string, SeenCertificate>();
  const askedAt = new Map<string, number>();
  const failing = new Set<string>();
  const inFlight = new Set<Promise<void>>();

  async function read(endpoint: string) {
    try {
      seen.set(endpoint, await readPeerCertificate(endpoint, deps.timeoutMs ?? 5_000));
      failing.delete(endpoint);
    } catch (err) {
      if (!failing.has(endpoint))
        deps.logger.warn(
          { err, endpoint },
          `could not read the TLS certificate of ${endpoint}; its certificate alert keeps its last state`,
        );
      failing.add(endpoint);
    }
  }

  return {
    /** The last reading of each endpoint; reads again those that are due. */
    current(endpoints: readonly string[], now: number): Map<string, SeenCertificate> {
      for (const endpoint of new Set(endpoints)) {
        if (now - (askedAt.get(endpoint) ?? Number.NEGATIVE_INFINITY) < deps.refreshMs) continue;
        askedAt.set(endpoint, now);
        const p: Promise<void> = read(endpoint).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      return new Map(endpoints.flatMap((e) => (seen.has(e) ? [[e, seen.get(e) as SeenCertificate]] : [])));
    },
    /** Waits for the readings in flight (stopping, tests). */
    async settle() {
      await Promise.all([...inFlight]);
    },
  };
}
export type CertificateSource = ReturnType<typeof createCertificateSource>;
