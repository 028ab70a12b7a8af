import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import type { CloudEvent, ConfigApplied, InstanceHeartbeat } from "@nexus/contracts";
import {
  call,
  type Harness,
  startRegistry,
  withAuth,
} from "../../../../services/config-registry/test/integration/harness.js";
import type { ConfigLogger } from "../../src/index.js";

export { call, type Harness };

/** `app.inject` as the harness's admin. */
export function inject(
  h: Harness,
  options: {
    method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
    url: string;
    payload?: unknown;
    headers?: Record<string, string>;
  },
) {
  return h.registry.app.inject({
    ...options,
    payload: options.payload as never,
    headers: withAuth(h, options.headers),
  });
}

/** The real registry, in-process, listening on a real port (the harness builds it but does not listen). */
export async function startListeningRegistry(): Promise<{ h: Harness; url: string; port: number }> {
  const h = await startRegistry();
  const address = await h.registry.app.listen({ port: 0, host: "127.0.0.1" });
  return { h, url: address, port: Number(new URL(address).port) };
}

/** Everything published on a subject from now on, with a way to await the first message that matches. */
export interface Recorder<T> {
  readonly messages: T[];
  waitFor(match: (m: T) => boolean, what: string, timeoutMs?: number): Promise<T>;
  stop(): void;
}

export function record<T>(nc: NatsConnection, subject: string, parse: (text: string) => T): Recorder<T> {
  const messages: T[] = [];
  const waiters = new Set<{ match: (m: T) => boolean; resolve: (m: T) => void }>();
  const sub: Subscription = nc.subscribe(subject, {
    callback: (_err, msg) => {
      const value = parse(msg.string());
      messages.push(value);
      for (const w of waiters) {
        if (w.match(value)) {
          waiters.delete(w);
          w.resolve(value);
        }
      }
    },
  });
  return {
    messages,
    waitFor(match, what, timeoutMs = 10_000) {
      const found = messages.find(match);
      if (found) return Promise.resolve(found);
      return new Promise<T>((resolve, reject) => {
        const waiter = {
          match,
          resolve: (m: T) => {
            clearTimeout(timer);
            resolve(m);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(
            new Error(
              `timed out after ${timeoutMs} ms waiting for ${what} on ${subject}; got ${messages.length}`,
            ),
          );
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    stop: () => sub.unsubscribe(),
  };
}

/** config.applied acks (the CloudEvent data) of one namespace/environment under a prefix. */
export function recordAcks(
  nc: NatsConnection,
  prefix: string,
  namespace: string,
  environment = "production",
) {
  return record(nc, `${prefix}.config.applied.${environment}.${namespace}`, (t) => {
    const event = JSON.parse(t) as CloudEvent<ConfigApplied>;
    return event.data;
  });
}

export function recordHeartbeats(
  nc: NatsConnection,
  prefix: string,
  namespace: string,
  environment = "production",
) {
  return record(nc, `${prefix}.instance.heartbeat.${environment}.${namespace}`, (t) => {
    const event = JSON.parse(t) as CloudEvent<InstanceHeartbeat>;
    return event.data;
  });
}

/** The registry's view: revision and hash of the resolved document right now. */
export async function resolvedNow(h: Harness, namespace: string, environment = "production") {
  const res = await call(h, "GET", `/v1/namespaces/${namespace}/environments/${environment}/resolved`);
  if (res.status !== 200) throw new Error(`resolved read failed: ${res.status} ${res.raw}`);
  return res.body as { revision: number; hash: string; content: Record<string, unknown> };
}

export async function writeLayer(h: Harness, namespace: string, layer: string, content: unknown) {
  const res = await call(h, "PUT", `/v1/namespaces/${namespace}/layers/${layer}`, content);
  if (res.status !== 200) throw new Error(`write failed: ${res.status} ${res.raw}`);
  return res.body as { revision: number; changedEnvironments: string[] };
}

/** A logger that keeps what the client says, to assert on what it noticed. */
export function recordingLogger(): ConfigLogger & {
  entries: { level: string; message: string; fields: object }[];
} {
  const entries: { level: string; message: string; fields: object }[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, message: string) =>
    void entries.push({ level, message, fields });
  return { entries, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** A promise that resolves the next time `resolveNext` is called: for awaiting a handler run. */
export function signal<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

export async function tempDir(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), "nexus-client-"));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export { startTcpProxy as startProxy } from "@nexus/test-fixtures";
