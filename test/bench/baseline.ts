/**
 * Baselines built from the same libraries the registry uses (fastify, pg, @nats-io) and no Nexus
 * code: what the hardware and servers give before any Nexus logic runs.
 */
import { randomUUID } from "node:crypto";
import { DiscardPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import type { TestNats } from "@nexus/test-fixtures";
import Fastify, { type FastifyInstance } from "fastify";
import { Redis } from "ioredis";
import pg from "pg";

export interface Listening {
  url: string;
  close(): Promise<void>;
}

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  if (!address || typeof address === "string") throw new Error("no TCP address");
  return `http://127.0.0.1:${address.port}`;
}

/** One route that answers with exactly these bytes and this content type. */
export async function startBareRead(path: string, body: string, contentType: string): Promise<Listening> {
  const app = Fastify({ logger: false });
  const bytes = Buffer.from(body);
  app.get(path, (_request, reply) => {
    reply.type(contentType).send(bytes);
  });
  const url = await listen(app);
  return { url, close: () => app.close() };
}

/**
 * The same route, but the bytes come from one Redis GET per request (a plain ioredis client,
 * stored under `keyPrefix`): the share of the gap that a cache round trip alone explains.
 */
export async function startBareRedisRead(
  path: string,
  body: string,
  contentType: string,
  redis: { url: string; keyPrefix: string },
): Promise<Listening> {
  const client = new Redis(redis.url, { keyPrefix: redis.keyPrefix, lazyConnect: true });
  await client.connect();
  const key = "bench:bare-body";
  await client.set(key, body, "EX", 3_600);
  const app = Fastify({ logger: false });
  app.get(path, async (_request, reply) => {
    const bytes = await client.getBuffer(key);
    if (!bytes) throw new Error("the cached body is gone");
    return reply.type(contentType).send(bytes);
  });
  const url = await listen(app);
  return {
    url,
    async close() {
      await app.close();
      await client.del(key);
      client.disconnect();
    },
  };
}

export interface BareWriteOptions {
  databaseUrl: string;
  /** A NATS connection and prefix of its own; its `streams.events` name is used for the scratch stream. */
  nats: TestNats;
  poolSize: number;
}

export const SCRATCH_TABLE = "bench_baseline_writes";

/**
 * POST /v1/writes/:writer: one Postgres transaction (INSERT the body into a scratch table,
 * COMMIT), then a JetStream publish of a small event, awaiting its PubAck, then 200 `{ id }`.
 * The event goes to `<prefix>.bench.written.<writer>`, where a core subscriber sees it.
 */
export async function startBareWrite(options: BareWriteOptions): Promise<Listening & { subject: string }> {
  const { nats } = options;
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize });
  pool.on("error", () => undefined);
  await pool.query(
    `CREATE TABLE IF NOT EXISTS public.${SCRATCH_TABLE} (
       id bigserial PRIMARY KEY, writer text NOT NULL, body jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`,
  );
  const jsm = await jetstreamManager(nats.nc);
  // The same storage and duplicate window as the registry's event stream.
  await jsm.streams.add({
    name: nats.streams.events,
    subjects: [`${nats.prefix}.bench.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    num_replicas: 1,
    duplicate_window: nanos(2 * 60 * 1_000),
    max_age: nanos(60 * 60 * 1_000),
  });
  const js = jetstream(nats.nc);

  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  app.post<{ Params: { writer: string }; Body: unknown }>("/v1/writes/:writer", async (request) => {
    const { writer } = request.params;
    const client = await pool.connect();
    let id: string;
    try {
      await client.query("BEGIN");
      const res = await client.query<{ id: string }>(
        `INSERT INTO public.${SCRATCH_TABLE} (writer, body) VALUES ($1, $2) RETURNING id`,
        [writer, JSON.stringify(request.body)],
      );
      id = res.rows[0]!.id;
      await client.query("COMMIT");
    } catch (err) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
    const eventId = randomUUID();
    await js.publish(
      `${nats.prefix}.bench.written.${writer}`,
      JSON.stringify({ eventId, writer, id, time: new Date().toISOString() }),
      { msgID: eventId },
    );
    return { id };
  });
  const url = await listen(app);
  return {
    url,
    subject: `${nats.prefix}.bench.>`,
    async close() {
      await app.close();
      await pool.end();
    },
  };
}
