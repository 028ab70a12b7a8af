/** Cached resolved-config reads: the registry beside bare fastify and bare fastify + Redis GET. */
import { startBareRead, startBareRedisRead } from "./baseline.js";
import { CpuTally } from "./cpu.js";
import type { Job, ReadSlice } from "./protocol.js";
import {
  auth,
  fmt,
  noiseNote,
  type Resources,
  ROUNDS,
  type Row,
  rotated,
  SLICE_SECONDS,
  slice,
} from "./run-resources.js";
import {
  CONNECTIONS,
  log,
  READ_ENVIRONMENT,
  READ_NAMESPACE,
  SECONDS,
  WARMUP_SECONDS,
} from "./run-settings.js";
import { summarize } from "./stats.js";

interface ReadTotals {
  ok: number;
  seconds: number;
  latencies: Float64Array[];
  tally: CpuTally;
}

export async function readPhase(res: Resources, registryUrl: string): Promise<Row[]> {
  const path = `/v1/namespaces/${READ_NAMESPACE}/environments/${READ_ENVIRONMENT}/resolved`;
  const first = await fetch(`${registryUrl}${path}`, { headers: auth.headers });
  const body = await first.text();
  const contentType = first.headers.get("content-type") ?? "";
  if (first.status !== 200) throw new Error(`GET ${path} answered ${first.status}: ${body}`);
  const cacheKey = `resolved:${READ_NAMESPACE}:${READ_ENVIRONMENT}`;
  if ((await res.redis!.redis.ttl(cacheKey)) <= 0)
    throw new Error(`the resolved document is not cached (${cacheKey})`);

  const bare = await startBareRead(path, body, contentType);
  res.servers.push(bare);
  const bareRedis = await startBareRedisRead(path, body, contentType, {
    url: res.redis!.url,
    keyPrefix: res.redis!.keyPrefix,
  });
  res.servers.push(bareRedis);
  let bareHeaders = 0;
  for (const server of [bare, bareRedis]) {
    const check = await fetch(`${server.url}${path}`, { headers: auth.headers });
    if ((await check.text()) !== body || check.headers.get("content-type") !== contentType) {
      throw new Error("a baseline app does not answer the same bytes and content type as the registry");
    }
    bareHeaders = [...check.headers.keys()].length;
  }
  log(
    `read: GET ${path} → ${Buffer.byteLength(body)} bytes, ${contentType}, from the registry's Redis cache; ` +
      `the registry sends ${[...first.headers.keys()].length} response headers, the bare app ${bareHeaders}`,
  );

  const targets = [
    { name: "bare fastify", url: bare.url },
    { name: "bare + Redis GET", url: bareRedis.url },
    { name: "registry", url: registryUrl },
  ] as const;
  const job = (url: string, seconds: number): Job => ({
    cmd: "read",
    headers: auth.headers,
    url: `${url}${path}`,
    connections: CONNECTIONS,
    seconds,
  });
  log(
    `read: ${CONNECTIONS} connections; each warmed up for ${WARMUP_SECONDS} s, then ${SECONDS} s each ` +
      `in ${ROUNDS} interleaved slices of ${SLICE_SECONDS} s (never two at once)`,
  );
  const warmup = new CpuTally();
  for (const t of targets) await slice(res, job(t.url, WARMUP_SECONDS), warmup);
  const totals = new Map<string, ReadTotals>(
    targets.map((t) => [t.name, { ok: 0, seconds: 0, latencies: [], tally: new CpuTally() }]),
  );
  for (let round = 0; round < ROUNDS; round++) {
    for (const t of rotated(targets, round)) {
      const total = totals.get(t.name)!;
      const r = await slice<ReadSlice>(res, job(t.url, SLICE_SECONDS), total.tally);
      if (r.non2xx || r.errors || r.timeouts || r.ok === 0) {
        throw new Error(
          `GET ${t.name}: ${r.ok} 2xx, ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts: the run is not valid`,
        );
      }
      total.ok += r.ok;
      total.seconds += r.seconds;
      total.latencies.push(r.latencies);
    }
  }
  if ((await res.redis!.redis.ttl(cacheKey)) <= 0)
    throw new Error("the cache entry went away during the run");

  const figures = new Map<string, { reqPerSec: number; p50: number; p99: number }>();
  for (const t of targets) {
    const total = totals.get(t.name)!;
    const { p50, p99 } = summarize(total.latencies);
    const reqPerSec = total.ok / total.seconds;
    figures.set(t.name, { reqPerSec, p50, p99 });
    log(
      `read: ${t.name.padEnd(16)} ${fmt(reqPerSec, "/s")} req/s (${total.ok} in ${total.seconds.toFixed(1)} s), ` +
        `p50 ${fmt(p50, "ms")} ms, p99 ${fmt(p99, "ms")} ms`,
    );
    log(`      CPU (share of one core): ${total.tally.line()}`);
    noiseNote(t.name, total.tally);
  }
  const b = figures.get("bare fastify")!;
  const br = figures.get("bare + Redis GET")!;
  const n = figures.get("registry")!;
  return [
    {
      metric: `cached GET req/s (${CONNECTIONS} conns)`,
      nexus: n.reqPerSec,
      baseline: b.reqPerSec,
      unit: "/s",
      target: { text: "≥ 50% of bare", met: n.reqPerSec / b.reqPerSec >= 0.5 },
    },
    { metric: "cached GET p50", nexus: n.p50, baseline: b.p50, unit: "ms" },
    { metric: "cached GET p99", nexus: n.p99, baseline: b.p99, unit: "ms" },
    { metric: "cached GET req/s vs bare+Redis GET", nexus: n.reqPerSec, baseline: br.reqPerSec, unit: "/s" },
  ];
}
