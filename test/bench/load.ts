/**
 * The load generator, run as a child process of run.ts so that it never shares an event loop with
 * the servers it measures (it does share the machine's cores). It takes one job at a time over IPC.
 */
import { Agent, request } from "node:http";
import { performance } from "node:perf_hooks";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { testConfig } from "@nexus/test-fixtures";
import autocannon from "autocannon";
import { overlayDocument, paddedOverlayDocument } from "./documents.js";
import type { FromChild, ReadJob, ReadSlice, ToChild, WriteJob, WriteSlice } from "./protocol.js";
import { cpuShare } from "./stats.js";

let nc: NatsConnection | undefined;

async function nats(): Promise<NatsConnection> {
  nc ??= await connect({ servers: testConfig.natsUrl, name: "nexus-bench-load" });
  return nc;
}

// ---------------------------------------------------------------------------------------------
// Reads: autocannon

function runRead(job: ReadJob): Promise<ReadSlice> {
  // Per-response timings (sub-millisecond), bounded: at most ~2M samples.
  const samples: number[] = [];
  const cpu = process.cpuUsage();
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: job.url,
        headers: job.headers,
        connections: job.connections,
        duration: job.seconds,
        pipelining: 1,
        timeout: 10,
      },
      (err: unknown, result) => {
        if (err) return reject(err instanceof Error ? err : new Error(String(err)));
        resolve({
          ok: result["2xx"],
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          seconds: result.duration,
          latencies: Float64Array.from(samples),
          loadCpu: cpuShare(cpu, performance.now() - started),
        });
      },
    );
    instance.on("response", (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300 && samples.length < 2_000_000) samples.push(responseTime);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Writes: HTTP writes on keep-alive connections, matched with the events a core subscriber sees

interface Reply {
  status: number;
  text: string;
}

function send(
  agent: Agent,
  method: string,
  url: URL,
  body: string,
  extraHeaders: Record<string, string>,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        method,
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        headers: {
          ...extraHeaders,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
        res.on("error", reject);
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${url.pathname} timed out after 10 s`)));
    req.on("error", reject);
    req.end(body);
  });
}

/** How each chain names a write's target, reads its response and recognises its event. */
interface Chain {
  url(target: string): URL;
  method: string;
  /** Key of the write, from its response. */
  keyOfReply(target: string, reply: Reply): string;
  /** Key of the write an event belongs to, or undefined for an event of no interest. */
  keyOfEvent(data: Uint8Array): string | undefined;
}

function chainOf(job: WriteJob): Chain {
  if (job.kind === "nexus") {
    return {
      method: "PUT",
      url: (ns) => new URL(`/v1/namespaces/${ns}/layers/production`, job.baseUrl),
      keyOfReply(ns, reply) {
        const body = JSON.parse(reply.text) as { revision: number; changed: boolean };
        if (!body.changed) throw new Error(`write to ${ns} changed nothing: ${reply.text}`);
        return `${ns}#${body.revision}`;
      },
      keyOfEvent(data) {
        const event = JSON.parse(Buffer.from(data).toString()) as {
          data?: { namespace?: string; revision?: number; environment?: string };
        };
        if (event.data?.environment !== "production") return undefined;
        return `${event.data.namespace}#${event.data.revision}`;
      },
    };
  }
  return {
    method: "POST",
    url: (writer) => new URL(`/v1/writes/${writer}`, job.baseUrl),
    keyOfReply(writer, reply) {
      return `${writer}#${(JSON.parse(reply.text) as { id: string }).id}`;
    },
    keyOfEvent(data) {
      const event = JSON.parse(Buffer.from(data).toString()) as { writer?: string; id?: string };
      return `${event.writer}#${event.id}`;
    },
  };
}

/**
 * `config.applied` acks as a core subscriber sees them: the first ack of a namespace at or past a
 * revision. An SDK that gets several changes while it applies one reads the newest, so an ack
 * answers every earlier write of its namespace too.
 */
function watchApplied(conn: NatsConnection, subject: string, timeoutMs: number) {
  const seen = new Map<string, { revision: number; at: number }[]>();
  const waiting = new Map<string, { revision: number; resolve: (at: number) => void }[]>();
  const sub = conn.subscribe(subject, {
    callback: (err, msg) => {
      const at = performance.now();
      if (err) return;
      const event = JSON.parse(Buffer.from(msg.data).toString()) as {
        data?: { namespace?: string; revision?: number; status?: string };
      };
      const { namespace, revision, status } = event.data ?? {};
      if (namespace === undefined || revision === undefined || status !== "applied") return;
      const acks = seen.get(namespace) ?? [];
      acks.push({ revision, at });
      seen.set(namespace, acks.slice(-50));
      const left = (waiting.get(namespace) ?? []).filter((w) => {
        if (w.revision > revision) return true;
        w.resolve(at);
        return false;
      });
      waiting.set(namespace, left);
    },
  });
  return {
    of(namespace: string, revision: number): Promise<number> {
      const early = seen.get(namespace)?.find((a) => a.revision >= revision);
      if (early) return Promise.resolve(early.at);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no config.applied for ${namespace}#${revision} within ${timeoutMs} ms`)),
          timeoutMs,
        );
        const list = waiting.get(namespace) ?? [];
        list.push({
          revision,
          resolve: (at) => {
            clearTimeout(timer);
            resolve(at);
          },
        });
        waiting.set(namespace, list);
      });
    },
    close: () => sub.unsubscribe(),
  };
}

/** Bodies never repeat over the process's life: a write that changes nothing has no event. */
let seq = 0;

async function runWrites(job: WriteJob): Promise<WriteSlice> {
  const conn = await nats();
  const chain = chainOf(job);
  const arrivals = new Map<string, number>();
  const waiters = new Map<string, (at: number) => void>();
  let subscriptionError: Error | undefined;
  const sub = conn.subscribe(job.subject, {
    callback: (err, msg) => {
      const at = performance.now();
      if (err) {
        subscriptionError = err;
        return;
      }
      const key = chain.keyOfEvent(msg.data);
      if (key === undefined) return;
      const waiter = waiters.get(key);
      if (waiter) {
        waiters.delete(key);
        waiter(at);
      } else arrivals.set(key, at);
    },
  });
  const applied = job.appliedSubject ? watchApplied(conn, job.appliedSubject, job.eventTimeoutMs) : undefined;
  await conn.flush(); // the subscriptions are on the server before the first write
  const agent = new Agent({ keepAlive: true, maxSockets: job.targets.length });

  const eventOf = (key: string): Promise<number> => {
    const seen = arrivals.get(key);
    if (seen !== undefined) {
      arrivals.delete(key);
      return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(key);
        reject(new Error(`no event for write ${key} within ${job.eventTimeoutMs} ms of its response`));
      }, job.eventTimeoutMs);
      waiters.set(key, (at) => {
        clearTimeout(timer);
        resolve(at);
      });
    });
  };

  /** One write: resolves with its response; its event is awaited on the side (`inFlightEvents`). */
  async function write(
    target: string,
    t: { eventMs: number[]; ackMs: number[]; appliedMs: number[] } | undefined,
  ): Promise<void> {
    const doc = job.padBytes
      ? paddedOverlayDocument(target, ++seq, job.padBytes)
      : overlayDocument(target, ++seq);
    const body = JSON.stringify(doc);
    const sent = performance.now();
    const reply = await send(agent, chain.method, chain.url(target), body, job.headers);
    const acked = performance.now();
    if (reply.status < 200 || reply.status >= 300) {
      throw new Error(`${chain.method} ${target} answered ${reply.status}: ${reply.text.slice(0, 500)}`);
    }
    const key = chain.keyOfReply(target, reply);
    // Never left rejected without a handler: a missing event is recorded and reported after.
    const pending = eventOf(key).then(
      (at) => {
        t?.eventMs.push(at - sent);
        lastEventAt = Math.max(lastEventAt, at);
      },
      (err: unknown) => {
        missing ??= err instanceof Error ? err : new Error(String(err));
      },
    );
    t?.ackMs.push(acked - sent);
    inFlightEvents.push(pending);
    if (applied) {
      const [ns, revision] = key.split("#") as [string, string];
      inFlightEvents.push(
        applied.of(ns, Number(revision)).then(
          (at) => void t?.appliedMs.push(at - sent),
          (err: unknown) => {
            missing ??= err instanceof Error ? err : new Error(String(err));
          },
        ),
      );
    }
  }

  let lastEventAt = 0;
  let missing: Error | undefined;
  let inFlightEvents: Promise<void>[] = [];

  try {
    // Warm-up: unmeasured, same path.
    const perWriter = Math.ceil(job.warmupWrites / job.targets.length);
    await Promise.all(
      job.targets.map(async (target) => {
        for (let i = 0; i < perWriter; i++) await write(target, undefined);
      }),
    );
    await Promise.all(inFlightEvents);
    if (missing) throw missing;
    inFlightEvents = [];
    arrivals.clear();

    const timings = { eventMs: [] as number[], ackMs: [] as number[], appliedMs: [] as number[] };
    const cpu = process.cpuUsage();
    const start = performance.now();
    const deadline = start + job.seconds * 1_000;
    let started = 0;
    let failed = false;
    await Promise.all(
      job.targets.map(async (target) => {
        // Each writer keeps exactly one write in flight: the next goes as soon as the response is in.
        const more = () => performance.now() < deadline || started < (job.minWrites ?? 0);
        while (!failed && more() && started < job.maxWrites) {
          started++;
          await write(target, timings).catch((err: unknown) => {
            failed = true; // the other writers stop too
            throw err;
          });
        }
      }),
    );
    const sendingEnded = performance.now();
    await Promise.all(inFlightEvents);
    if (missing) throw missing;
    if (subscriptionError) throw subscriptionError;
    return {
      eventMs: Float64Array.from(timings.eventMs),
      ackMs: Float64Array.from(timings.ackMs),
      appliedMs: Float64Array.from(timings.appliedMs),
      activeMs: Math.max(lastEventAt, sendingEnded) - start,
      sendingMs: sendingEnded - start,
      loadCpu: cpuShare(cpu, performance.now() - start),
    };
  } finally {
    // Settle everything still pending (after an error) before leaving, so nothing rejects unheard.
    await Promise.allSettled(inFlightEvents);
    sub.unsubscribe();
    applied?.close();
    agent.destroy();
  }
}

// ---------------------------------------------------------------------------------------------

function reply(message: FromChild): void {
  if (process.connected) process.send?.(message, undefined, {}, () => undefined);
}

// Ctrl-C reaches the whole process group: the parent decides when this process ends.
process.on("SIGINT", () => undefined);

process.on("message", (message: ToChild) => {
  const { id, job } = message;
  if (job.cmd === "exit") {
    void (async () => {
      await nc?.close();
      reply({ id, ok: true, result: null });
      process.disconnect();
    })();
    return;
  }
  const run = job.cmd === "read" ? runRead(job) : runWrites(job);
  run.then(
    (result) => reply({ id, ok: true, result }),
    (err: unknown) => reply({ id, ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});

// Orphaned (parent died): go too.
process.on("disconnect", () => {
  void nc?.close().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 2_000).unref();
});
