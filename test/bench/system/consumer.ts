/**
 * The consuming service of the system benchmark, a child process of its own: one real
 * `@nexus/client` SDK instance per written namespace (HTTP reads with a token, NATS push, acks and
 * heartbeats, as a service runs it), acking every revision it applies on `config.applied`; and,
 * for the bare chain, a core subscriber that answers each bare event with an ack at once (the
 * least a consumer can do: what the SDK's own work costs shows as the difference).
 */
import { connect } from "@nats-io/transport-node";
import { connectConfig, type NexusConfig } from "../../../packages/client/src/index.js";

export interface ConsumerJob {
  registryUrl: string;
  token: string;
  natsUrl: string;
  /** The services' NATS_PREFIX. */
  prefix: string;
  namespaces: string[];
  /** The bare chain's event subject (wildcard) and where its acks go (`<ackPrefix>.<writer>`). */
  bareSubject: string;
  bareAckPrefix: string;
}

export type FromConsumer = { type: "ready" } | { type: "error"; message: string } | { type: "stopped" };

const send = (m: FromConsumer) => process.send?.(m);
const closers: (() => Promise<void>)[] = [];

async function start(job: ConsumerJob): Promise<void> {
  const bare = await connect({
    servers: job.natsUrl,
    name: "system-bench-bare-consumer",
    noAsyncTraces: true,
  });
  closers.push(() => bare.drain());
  bare.subscribe(job.bareSubject, {
    callback: (_err, msg) => {
      const event = JSON.parse(msg.string()) as { writer: string; id: string };
      // The same fields the load generator reads from a `config.applied` ack.
      bare.publish(
        `${job.bareAckPrefix}.${event.writer}`,
        JSON.stringify({ data: { namespace: event.writer, revision: Number(event.id), status: "applied" } }),
      );
    },
  });
  await bare.flush();
  const clients = await Promise.all(
    job.namespaces.map((namespace) =>
      connectConfig({
        namespace,
        environment: "production",
        service: "system-bench-consumer",
        url: job.registryUrl,
        token: job.token,
        nats: { servers: job.natsUrl },
        subjectPrefix: job.prefix,
      }),
    ),
  );
  for (const c of clients as NexusConfig<unknown>[]) closers.unshift(() => c.close());
  send({ type: "ready" });
}

process.on("message", (m: { type: "start"; job: ConsumerJob } | { type: "stop" }) => {
  if (m.type === "start") {
    start(m.job).catch((err: unknown) =>
      send({ type: "error", message: (err as Error).stack ?? String(err) }),
    );
  } else {
    void Promise.allSettled(closers.map((c) => c())).then(() => {
      send({ type: "stopped" });
      process.exit(0);
    });
  }
});
// Ctrl-C reaches the whole process group: the parent decides when this process ends.
process.on("SIGINT", () => undefined);
// Orphaned (parent died): go too.
process.on("disconnect", () => {
  void Promise.allSettled(closers.map((c) => c())).finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 2_000).unref();
});
