import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createOidcAuthenticator, type Logger } from "@nexus/kit";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";

export interface TestIssuer {
  issuer: string;
  audience: string;
  jwksUrl: string;
  rolesClaim: string;
  /**
   * A signed bearer token carrying these grants (`admin`, `editor:payments-*:staging`, ...).
   * `expiresIn` is a jose time span ("10m") or seconds from now (negative: already expired).
   */
  token(grants: string[], options?: { subject?: string; expiresIn?: string | number }): Promise<string>;
  /** The kit authenticator configured for this issuer, for a service's buildApp deps. */
  authenticator(logger: Logger): ReturnType<typeof createOidcAuthenticator>;
  close(): Promise<void>;
}

/**
 * A real OIDC-style token issuer on loopback: an HTTP server publishing its JWKS, and ES256-signed
 * JWTs. Services verify them exactly as they verify a production identity provider's.
 */
export async function startTestIssuer(): Promise<TestIssuer> {
  const { publicKey, privateKey } = await generateKeyPair("ES256");
  const kid = randomUUID();
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" };
  const server: Server = createServer((req, res) => {
    if (req.url === "/.well-known/jwks.json") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ keys: [jwk] }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;
  const audience = "nexus";
  const jwksUrl = `${issuer}/.well-known/jwks.json`;
  const rolesClaim = "nexus_roles";

  return {
    issuer,
    audience,
    jwksUrl,
    rolesClaim,
    async token(grants, options = {}) {
      const now = Math.floor(Date.now() / 1000);
      const exp =
        typeof options.expiresIn === "number" ? now + options.expiresIn : (options.expiresIn ?? "10m");
      return new SignJWT({ [rolesClaim]: grants })
        .setProtectedHeader({ alg: "ES256", kid })
        .setIssuer(issuer)
        .setAudience(audience)
        .setSubject(options.subject ?? "test-user")
        .setIssuedAt(now - 60)
        .setExpirationTime(exp)
        .sign(privateKey);
    },
    authenticator(logger) {
      return createOidcAuthenticator({ jwksUrl, issuer, audience, rolesClaim, logger });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
