/**
 * One worker process of the fan-out benchmark: `clients` SDK clients (or, for the baseline,
 * `clients` bare core subscriptions that answer every message at once).
 */
import { performance } from "node:perf_hooks";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { connectConfig, type NexusConfig } from "../../packages/client/src/index.js";
import { BARE_ACK_SUBJECT, BARE_SUBJECT, type FromWorker, type ToWorker } from "./fanout-protocol.js";

const send = (m: FromWorker) => process.send?.(m);
const closers: (() => Promise<void>)[] = [];

async function start(job: Extract<ToWorker, { type: "start" }>): Promise<void> {
  const started = performance.now();
  const shared: NatsConnection | undefined =
    job.sharedNats || job.mode === "bare"
      ? // As the SDK opens its own (see nats-link.ts): no stack trace captured per request.
        await connect({ servers: job.natsUrl, name: `fanout-${job.worker}`, noAsyncTraces: true })
      : undefined;
  if (shared) closers.push(() => shared.drain());

  if (job.mode === "bare") {
    for (let i = 0; i < job.clients; i++) {
      const id = `w${job.worker}-c${i}`;
      shared!.subscribe(BARE_SUBJECT(job.prefix), {
        callback: (_err, msg) =>
          shared!.publish(BARE_ACK_SUBJECT(job.prefix), JSON.stringify({ id, seq: msg.string() })),
      });
    }
    await shared!.flush();
  } else {
    const clients = await Promise.all(
      Array.from({ length: job.clients }, (_, i) =>
        connectConfig({
          namespace: job.namespace,
          environment: job.environment,
          service: "fanout-bench",
          instanceId: `w${job.worker}-c${i}`,
          ...(job.read === "http" ? { url: job.registryUrl, token: job.token } : {}),
          nats: shared ?? { servers: job.natsUrl },
          subjectPrefix: job.prefix,
          heartbeatSeconds: 3_600,
          // BENCH_ROLLOUTS=1: clients that ask the orchestrator about wave rollouts on every change.
          rollouts: process.env.BENCH_ROLLOUTS === "1",
          requestTimeoutMs: 10_000,
        }),
      ),
    );
    for (const c of clients as NexusConfig<unknown>[]) closers.unshift(() => c.close());
  }
  send({ type: "ready", clients: job.clients, startMs: performance.now() - started });
}

process.on("message", (m: ToWorker) => {
  if (m.type === "start") {
    start(m).catch((err: unknown) => send({ type: "error", message: (err as Error).stack ?? String(err) }));
  } else if (m.type === "stop") {
    void Promise.allSettled(closers.map((c) => c())).then(() => {
      send({ type: "stopped" });
      process.exit(0);
    });
  }
});
