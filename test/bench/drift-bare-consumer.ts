/**
 * Baseline for the drift benchmark: a bare JetStream pull consumer on the same heartbeat subjects,
 * JSON-parsing and acking each message and doing nothing else. Run as its own process so its CPU
 * is measured the way the detector's is. Env: NATS_URL, SUBJECT, STREAM, DURABLE.
 */
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";

const { NATS_URL = "nats://127.0.0.1:4222", SUBJECT, STREAM, DURABLE } = process.env;
if (!SUBJECT || !STREAM || !DURABLE) throw new Error("SUBJECT, STREAM and DURABLE are required");

const nc = await connect({ servers: NATS_URL, name: "bench-bare-consumer" });
const jsm = await jetstreamManager(nc);
await jsm.consumers.add(STREAM, {
  durable_name: DURABLE,
  filter_subject: SUBJECT,
  ack_policy: AckPolicy.Explicit,
  max_ack_pending: 8_000,
});
const consumer = await jetstream(nc).consumers.get(STREAM, DURABLE);
let seen = 0;
process.on("message", (m) => {
  if (m === "count") process.send?.({ seen });
});
process.send?.({ ready: true });
const messages = await consumer.consume({ max_messages: 2_000 });
for await (const m of messages) {
  JSON.parse(m.string());
  m.ack();
  seen++;
}
