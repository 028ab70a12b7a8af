/**
 * The configuration the benchmark works with: what a mid-sized service keeps in Nexus. The base
 * layer resolves to ~3 KB of JSON, with a few `${env:...}` and `${ref:...}` references.
 */

export const NAMESPACE_VARIABLES = { REGION: "eu-west-1", CLUSTER: "prod-a", TEAM: "payments" };

export function baseDocument(service: string): Record<string, unknown> {
  return {
    service: {
      name: service,
      owner: "${env:TEAM}",
      region: "${env:REGION}",
      cluster: "${env:CLUSTER}",
      description: `The ${service} service: accepts, authorises and settles card and bank payments.`,
    },
    http: {
      port: 8080,
      host: "0.0.0.0",
      basePath: `/api/${service}`,
      timeouts: { requestMs: 15_000, keepAliveMs: 72_000, headersMs: 10_000 },
      cors: {
        allowedOrigins: [
          "https://app.example.com",
          "https://admin.example.com",
          "https://partners.example.com",
        ],
        allowedMethods: ["GET", "POST", "PUT", "PATCH", "DELETE"],
        maxAgeSeconds: 600,
      },
      rateLimit: {
        enabled: true,
        perMinute: 1_200,
        burst: 200,
        exemptPaths: ["/livez", "/readyz", "/metrics"],
      },
    },
    database: {
      host: "${env:CLUSTER}-postgres.internal",
      port: 5432,
      name: service.replaceAll("-", "_"),
      user: `${service}_app`,
      pool: { min: 2, max: 20, idleTimeoutMs: 30_000, connectionTimeoutMs: 5_000 },
      statementTimeoutMs: 10_000,
      ssl: { mode: "verify-full", rootCert: "/etc/ssl/certs/internal-ca.pem" },
      replicas: [
        { host: "${env:CLUSTER}-postgres-r1.internal", weight: 2 },
        { host: "${env:CLUSTER}-postgres-r2.internal", weight: 1 },
      ],
    },
    cache: {
      url: "redis://${env:CLUSTER}-redis.internal:6379/0",
      keyPrefix: `${service}:`,
      defaultTtlSeconds: 300,
      maxValueBytes: 65_536,
    },
    messaging: {
      url: "nats://${env:CLUSTER}-nats.internal:4222",
      subjects: {
        authorised: `payments.${service}.authorised`,
        settled: `payments.${service}.settled`,
        failed: `payments.${service}.failed`,
      },
      consumer: { durable: `${service}-worker`, maxDeliver: 5, ackWaitMs: 30_000, concurrency: 8 },
    },
    features: {
      instantPayouts: false,
      threeDSecure2: true,
      applePay: true,
      googlePay: true,
      sepaInstant: false,
      riskScoringV2: { enabled: true, rolloutPercent: 25, allowList: ["merchant-1001", "merchant-2042"] },
      newSettlementEngine: { enabled: false, shadowMode: true },
    },
    limits: {
      maxAmountMinor: 5_000_000,
      dailyLimitMinor: 50_000_000,
      currencies: ["EUR", "GBP", "USD", "CHF", "SEK", "NOK", "DKK", "PLN"],
      perCountry: { DE: 10_000_000, FR: 8_000_000, NL: 6_000_000, GB: 9_000_000 },
    },
    retries: {
      attempts: 4,
      backoffMs: [100, 400, 1_600, 6_400],
      retryOn: ["timeout", "503", "connection_reset"],
    },
    logging: {
      level: "info",
      format: "json",
      redact: ["card.number", "card.cvc", "iban", "authorization"],
      sampleRate: 1,
    },
    observability: {
      tracing: {
        enabled: true,
        sampleRatio: 0.05,
        endpoint: "http://otel-collector.${env:CLUSTER}.internal:4318",
      },
      metrics: { enabled: true, path: "/metrics", histogramBucketsMs: [5, 10, 25, 50, 100, 250, 500, 1_000] },
    },
    providers: {
      acquirer: {
        name: "acme-acquiring",
        baseUrl: "https://api.acme-acquiring.example/v3",
        timeoutMs: 8_000,
        merchantId: "${env:TEAM}-${env:REGION}",
      },
      fraud: { name: "fraudshield", baseUrl: "https://fraudshield.example/api", timeoutMs: 1_500 },
      fx: { name: "ratesource", baseUrl: "https://rates.example/v1", refreshSeconds: 60 },
    },
    readReplicaHost: "${ref:database.replicas[0].host}",
    healthcheck: { path: "/readyz", intervalSeconds: 10, failureThreshold: 3 },
  };
}

/** The production overlay a benchmark write puts: a few overrides and a changing counter. */
export function overlayDocument(target: string, seq: number): Record<string, unknown> {
  return {
    http: { rateLimit: { perMinute: 6_000, burst: 1_000 } },
    database: { pool: { min: 5, max: 40 } },
    features: { riskScoringV2: { rolloutPercent: 50 }, instantPayouts: seq % 2 === 0 },
    logging: { level: "warn", sampleRate: 0.25 },
    deployment: { writer: target, seq, note: "written by the Nexus benchmark" },
  };
}

/**
 * The overlay padded to about `bytes` of JSON with entries of ~100 bytes (a large config is many
 * keys, not one long string), the changing counter kept, so every write still changes something.
 */
export function paddedOverlayDocument(target: string, seq: number, bytes: number): Record<string, unknown> {
  const doc = overlayDocument(target, seq);
  const entries = Math.max(0, Math.floor((bytes - JSON.stringify(doc).length - 14) / 100));
  let padding = paddings.get(entries);
  if (!padding) {
    padding = {};
    for (let i = 0; i < entries; i++) padding[`k${String(i).padStart(6, "0")}`] = "x".repeat(87);
    paddings.set(entries, padding);
  }
  return { ...doc, padding };
}
const paddings = new Map<number, Record<string, string>>();
