/**
 * hello-service: a plain Node service that consumes its configuration through @nexus/client.
 * It prints the config it runs, serves a greeting built from it on GET /, and hot-reloads when
 * the config changes in Nexus: no restart, no framework.
 *
 *   NEXUS_URL=http://127.0.0.1:4100 NATS_URL=nats://127.0.0.1:4222 NEXUS_NAMESPACE=hello \
 *   NEXUS_ENVIRONMENT=development pnpm --filter @nexus/hello-service start
 */
import { createServer } from "node:http";
import { connectConfig } from "@nexus/client";
import { consoleLogger } from "./console-logger.js";
import { loadEnv } from "./env.js";
import { assertAcceptable, HelloConfig, render } from "./hello-config.js";

const env = loadEnv();
const logger = consoleLogger(env.LOG_LEVEL);

const config = await connectConfig({
  namespace: env.NEXUS_NAMESPACE,
  environment: env.NEXUS_ENVIRONMENT,
  service: "hello-service",
  url: env.NEXUS_URL,
  token: env.NEXUS_TOKEN,
  nats: env.NATS_URL ? { servers: env.NATS_URL } : undefined,
  subjectPrefix: env.NATS_PREFIX,
  schema: HelloConfig,
  instanceId: env.NEXUS_INSTANCE_ID,
  cacheFile: env.NEXUS_CACHE_FILE,
  heartbeatSeconds: env.HEARTBEAT_SECONDS,
  logger,
}).catch((err: Error & { code?: string }) => {
  logger.error({ code: err.code, err: err.message }, "hello-service cannot start without its configuration");
  process.exit(1);
});

const announce = (why: string) =>
  logger.info(
    { revision: config.revision, hash: config.hash, source: config.source, config: config.get() },
    `hello-service ${why}: ${render(config.get())}`,
  );
announce("runs");

config.on("change", (next, previous, changedPaths) => {
  assertAcceptable(next); // throwing refuses the change; the SDK keeps `previous` running
  logger.info({ changedPaths, from: render(previous), to: render(next) }, "hello-service reloads its config");
});

const server = createServer((req, res) => {
  const body = {
    greeting: render(config.get()),
    revision: config.revision,
    hash: config.hash,
    source: config.source,
  };
  res.writeHead(req.url === "/" ? 200 : 404, { "content-type": "application/json" });
  res.end(JSON.stringify(req.url === "/" ? body : { error: "not found" }));
});
server.listen(env.PORT, env.HOST, () => {
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : env.PORT;
  logger.info({ url: `http://${env.HOST}:${port}/` }, "hello-service listening");
});

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    server.close();
    void config.close().finally(() => process.exit(0));
  });
}
