/**
 * The fan-out benchmark's stopwatch, in a process of its own: it hears every client's answer
 * (bare acks and SDK `config.applied`) on a core NATS subscription and notes when each arrived
 * (epoch ms, `performance.timeOrigin + now()`, comparable across processes on one machine). In
 * the benchmark process it would share an event loop with the registry, which is busiest exactly
 * while the acks arrive, and note them late.
 */
import { performance } from "node:perf_hooks";
import { connect } from "@nats-io/transport-node";
import { BARE_ACK_SUBJECT, type FromObserver, SDK_ACK_SUBJECT, type ToObserver } from "./fanout-protocol.js";

const send = (m: FromObserver) => process.send?.(m);
const epochNow = () => performance.timeOrigin + performance.now();

const seen = new Map<string, number[]>();
let wanted: { key: string; n: number; timer: NodeJS.Timeout } | undefined;

function arrived(key: string): void {
  const times = seen.get(key) ?? [];
  times.push(epochNow());
  seen.set(key, times);
  if (wanted?.key === key && times.length >= wanted.n) answer();
}

function answer(): void {
  if (!wanted) return;
  clearTimeout(wanted.timer);
  const times = seen.get(wanted.key) ?? [];
  send({ type: "arrived", key: wanted.key, times });
  wanted = undefined;
}

async function start(natsUrl: string, prefix: string): Promise<void> {
  const nc = await connect({ servers: natsUrl, name: "fanout-observer", noAsyncTraces: true });
  nc.subscribe(BARE_ACK_SUBJECT(prefix), {
    callback: (_e, m) => arrived((JSON.parse(m.string()) as { seq: string }).seq),
  });
  // Found without a JSON.parse of every ack: the SDK writes `"hash":"<64 hex>"` and `"status":"applied"`.
  nc.subscribe(SDK_ACK_SUBJECT(prefix), {
    callback: (_e, m) => {
      const text = m.string();
      const at = text.indexOf('"hash":"');
      if (at >= 0 && text.includes('"status":"applied"')) arrived(text.slice(at + 8, at + 72));
    },
  });
  // When the registry's announcement itself arrived: `changed:<hash>`.
  nc.subscribe(`${prefix}.config.changed.>`, {
    callback: (_e, m) => {
      // Published as Postgres rendered the outbox row: `"hash": "…"`, with a space.
      const hash = /"hash":\s*"([0-9a-f]{64})"/.exec(m.string())?.[1];
      if (hash) arrived(`changed:${hash}`);
    },
  });
  await nc.flush();
  send({ type: "ready" });
}

process.on("message", (m: ToObserver) => {
  if (m.type === "start") {
    start(m.natsUrl, m.prefix).catch((err: unknown) =>
      send({ type: "error", message: (err as Error).stack ?? String(err) }),
    );
  } else if (m.type === "wait") {
    const timer = setTimeout(() => {
      send({
        type: "error",
        message: `only ${seen.get(m.key)?.length ?? 0} of ${m.n} answers arrived for ${m.key}`,
      });
      wanted = undefined;
    }, m.timeoutMs);
    wanted = { key: m.key, n: m.n, timer };
    if ((seen.get(m.key)?.length ?? 0) >= m.n) answer();
  } else if (m.type === "stop") {
    process.exit(0);
  }
});
