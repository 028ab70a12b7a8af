// biome-ignore-all lint/suspicious/noExplicitAny: registry answers are recorded as they come; the checker reads what it needs

/**
 * A Jepsen-style history of concurrent writers against a real registry, and its offline check.
 *
 * The workload: read-modify-write counters with `If-Match` on two layers (PUT on one, JSON Merge
 * Patch on the other), blind writes and rollbacks on a third, writes to the base layer, and writes
 * to an upstream namespace that the base `${ref:}`s. Every operation is recorded (invoke, then
 * ok / fail / unknown with what the registry answered). Each counter write carries the revision it
 * was based on, so the stored history itself shows a lost update: a stored revision whose
 * `basedOn` is not the layer revision it follows.
 */

export const HISTORY_NS = "hist";
export const UPSTREAM_NS = "hist-up";
export const ENVIRONMENTS = ["development", "staging", "production"] as const;

export type Outcome = "ok" | "fail" | "unknown";

export interface Operation {
  client: string;
  kind: "cas-put" | "cas-patch" | "blind-put" | "rollback" | "base-put" | "upstream-put";
  namespace: string;
  layer: string;
  ifMatch?: number;
  value?: number;
  outcome: Outcome;
  status?: number;
  revision?: number;
  changed?: boolean;
  error?: string;
}

export interface Target {
  url: string;
  token: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One request to a registry as `target`, with JSON in and out. */
export async function request(
  target: Target,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any; etag: string | null }> {
  const res = await fetch(`${target.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${target.token}`,
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, body: json, etag: res.headers.get("etag") };
}

/** Namespaces and first revisions of every layer the workload touches. */
export async function setUpHistory(target: Target): Promise<void> {
  for (const name of [UPSTREAM_NS, HISTORY_NS]) {
    const res = await request(target, "POST", "/v1/namespaces", { name, environments: [...ENVIRONMENTS] });
    if (res.status !== 201) throw new Error(`creating ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  await expectOk(request(target, "PUT", `/v1/namespaces/${UPSTREAM_NS}/layers/base`, { v: 0 }));
  await expectOk(
    request(target, "PUT", `/v1/namespaces/${HISTORY_NS}/layers/base`, {
      shared: 0,
      up: `\${ref:${UPSTREAM_NS}:v}`,
    }),
  );
  for (const env of ENVIRONMENTS) {
    await expectOk(request(target, "PUT", `/v1/namespaces/${HISTORY_NS}/layers/${env}`, { counter: 0 }));
  }
}

async function expectOk(p: Promise<{ status: number; body: unknown }>): Promise<void> {
  const res = await p;
  if (res.status !== 200) throw new Error(`set-up write: ${res.status} ${JSON.stringify(res.body)}`);
}

export interface WorkloadOptions {
  /** Read-modify-write PUT clients on staging. */
  casPut: number;
  /** Read-modify-write PATCH clients on development. */
  casPatch: number;
  /** Blind writers (and one rollback client) on production. */
  blind: number;
  /** Writers of the base layer and of the upstream namespace. */
  crossNamespace: number;
  /** Stop after this long. */
  durationMs: number;
}

/** Run the workload until `durationMs` passed or `stop` resolves; every operation recorded. */
export async function runWorkload(
  target: () => Target,
  options: WorkloadOptions,
  history: Operation[],
): Promise<void> {
  const deadline = Date.now() + options.durationMs;
  const running = () => Date.now() < deadline;
  const clients: Promise<void>[] = [];

  const record = async (
    op: Omit<Operation, "outcome">,
    send: () => Promise<{ status: number; body: any }>,
  ): Promise<Operation> => {
    const done: Operation = { ...op, outcome: "unknown" };
    history.push(done);
    try {
      const res = await send();
      done.status = res.status;
      if (res.status === 200) {
        done.outcome = "ok";
        done.revision = res.body?.revision;
        done.changed = res.body?.changed;
      } else if (res.status >= 400 && res.status < 500) {
        done.outcome = "fail";
        done.error = res.body?.error?.code;
      } else {
        // A 5xx (or a 202) says nothing certain about whether the write happened.
        done.error = `status ${res.status}`;
      }
    } catch (err) {
      done.error = (err as Error).message;
    }
    return done;
  };

  const counterClient = (name: string, layer: string, kind: "cas-put" | "cas-patch") => async () => {
    const path = `/v1/namespaces/${HISTORY_NS}/layers/${layer}`;
    while (running()) {
      let read: Awaited<ReturnType<typeof request>>;
      try {
        read = await request(target(), "GET", path);
      } catch {
        await sleep(50);
        continue;
      }
      if (read.status !== 200) {
        await sleep(50);
        continue;
      }
      const basedOn = read.body.revision as number;
      const value = ((read.body.content?.counter as number | undefined) ?? 0) + 1;
      const doc = { counter: value, basedOn, by: name };
      await record({ client: name, kind, namespace: HISTORY_NS, layer, ifMatch: basedOn, value }, () =>
        request(target(), kind === "cas-put" ? "PUT" : "PATCH", path, doc, {
          "if-match": `"${basedOn}"`,
          ...(kind === "cas-patch" ? { "content-type": "application/merge-patch+json" } : {}),
        }),
      );
    }
  };

  const blindClient = (name: string) => async () => {
    for (let i = 1; running(); i++) {
      await record(
        { client: name, kind: "blind-put", namespace: HISTORY_NS, layer: "production", value: i },
        () =>
          request(target(), "PUT", `/v1/namespaces/${HISTORY_NS}/layers/production`, { blind: i, by: name }),
      );
    }
  };

  const rollbackClient = (name: string) => async () => {
    while (running()) {
      await sleep(20);
      let list: Awaited<ReturnType<typeof request>>;
      try {
        list = await request(
          target(),
          "GET",
          `/v1/namespaces/${HISTORY_NS}/layers/production/revisions?limit=5`,
        );
      } catch {
        continue;
      }
      const items = (list.body?.items ?? []) as { revision: number }[];
      const pick = items[items.length - 1];
      if (!pick) continue;
      await record(
        { client: name, kind: "rollback", namespace: HISTORY_NS, layer: "production", value: pick.revision },
        () =>
          request(target(), "POST", `/v1/namespaces/${HISTORY_NS}/layers/production/rollback`, {
            revision: pick.revision,
          }),
      );
    }
  };

  const crossClient = (name: string, upstream: boolean) => async () => {
    for (let i = 1; running(); i++) {
      await sleep(5);
      if (upstream) {
        await record(
          { client: name, kind: "upstream-put", namespace: UPSTREAM_NS, layer: "base", value: i },
          () => request(target(), "PUT", `/v1/namespaces/${UPSTREAM_NS}/layers/base`, { v: `${name}-${i}` }),
        );
      } else {
        await record({ client: name, kind: "base-put", namespace: HISTORY_NS, layer: "base", value: i }, () =>
          request(target(), "PUT", `/v1/namespaces/${HISTORY_NS}/layers/base`, {
            shared: `${name}-${i}`,
            up: `\${ref:${UPSTREAM_NS}:v}`,
          }),
        );
      }
    }
  };

  for (let i = 0; i < options.casPut; i++) clients.push(counterClient(`put-${i}`, "staging", "cas-put")());
  for (let i = 0; i < options.casPatch; i++)
    clients.push(counterClient(`patch-${i}`, "development", "cas-patch")());
  for (let i = 0; i < options.blind; i++) clients.push(blindClient(`blind-${i}`)());
  if (options.blind > 0) clients.push(rollbackClient("rollback-0")());
  for (let i = 0; i < options.crossNamespace; i++) clients.push(crossClient(`cross-${i}`, i % 2 === 0)());
  await Promise.all(clients);
}

export {
  type ChangedEvent,
  checkHistory,
  type HistoryCheckInput,
  readChangedEvents,
} from "./history-check.js";
