import { type Msg, NoRespondersError, RequestError, TimeoutError } from "@nats-io/transport-node";
import { context } from "@opentelemetry/api";
import type { z } from "zod";
import { AppError, isAppError, ServiceUnavailableError } from "../errors.js";
import { parseStrictJson } from "../input/clean-input.js";
import { withCommandClientSpan, withCommandServerSpan } from "../tracing/spans.js";
import { isTracingEnabled } from "../tracing/tracing.js";
import { contextFromHeaders, TRACEPARENT, toMsgHdrs, traceHeaders } from "./headers.js";
import { prefixSubject } from "./names.js";
import {
  type BusContext,
  type CommandError,
  EncodedReply,
  type ServeCommandOptions,
  type Stoppable,
} from "./types.js";

type ErrorReply = { ok: false; error: CommandError };

/** Default request size limit of a command: far above any command naming a target and a few fields. */
export const COMMAND_MAX_BYTES = 64 * 1024;
/** For commands that carry a whole configuration document: the HTTP API's default body limit. */
export const DOCUMENT_COMMAND_MAX_BYTES = 1024 * 1024;

/**
 * A request/reply responder in a queue group, so each command is handled by one instance.
 * Every reply is JSON: the handler's own (checked against its schema) or `{ ok:false, error }`
 * with the same status/code/field taxonomy as the HTTP API.
 */
export function serveCommand<Req extends z.ZodType, Rep extends z.ZodType>(
  ctx: Pick<BusContext, "nc" | "prefix" | "logger">,
  opts: ServeCommandOptions<Req, Rep>,
): Stoppable {
  const subject = prefixSubject(ctx.prefix, opts.subject);
  const sub = ctx.nc.subscribe(subject, { queue: opts.queue });
  const inflight = new Set<Promise<void>>();
  const replies = replyBatch((err) => ctx.logger.warn({ subject, err }, "could not send a command reply"));

  const answer = async (m: Msg): Promise<void> => {
    const parent = contextFromHeaders(m.headers);
    const reply = isTracingEnabled()
      ? await withCommandServerSpan(
          parent,
          { subject: m.subject, bodySize: m.data.length, group: opts.queue },
          () => handle(m),
        )
      : await context.with(parent, () => handle(m));
    if (!m.reply) return;
    replies.add(m, reply instanceof EncodedReply ? reply.json : encode(reply));
  };

  const maxBytes = opts.maxRequestBytes ?? COMMAND_MAX_BYTES;

  const handle = async (m: Msg): Promise<unknown> => {
    if (m.data.length > maxBytes) {
      return {
        ok: false,
        error: {
          statusCode: 413,
          code: "payload_too_large",
          message: `the request is ${m.data.length} bytes; this command takes at most ${maxBytes}`,
          field: "body",
        },
      } satisfies ErrorReply;
    }
    let body: unknown;
    try {
      body = parseStrictJson(m.data);
    } catch (err) {
      // NUL characters, lone surrogates, reserved keys, too deep: refused with their own codes.
      if (isAppError(err) && err.code !== "malformed_body") return fromAppError(err);
      return invalid("request body is not valid JSON", "body");
    }
    const req = opts.request.safeParse(body);
    if (!req.success) {
      const issues = req.error.issues.map((i) => ({
        path: i.path.map(String).join("."),
        message: i.message,
      }));
      const first = issues[0];
      // An issue at the root (an array, a number, null) is the body's own.
      return invalid(
        first ? `${first.path || "(root)"}: ${first.message}` : "invalid request",
        first?.path || "body",
        issues,
      );
    }
    try {
      const traceparent = m.headers?.get(TRACEPARENT) || undefined;
      const result = await opts.handler(req.data, { subject: m.subject, traceparent, msg: m });
      if (result instanceof EncodedReply) return result;
      const checked = opts.reply.safeParse(result);
      if (checked.success) return checked.data;
      ctx.logger.error(
        { subject, issues: checked.error.issues },
        "command handler returned a reply that breaks its schema",
      );
      return internal();
    } catch (err) {
      if (isAppError(err)) {
        if (err.expected) ctx.logger.warn({ subject, code: err.code, field: err.field }, err.message);
        else ctx.logger.error({ subject, err }, "command failed");
        return fromAppError(err);
      }
      ctx.logger.error({ subject, err }, "command handler crashed");
      return internal();
    }
  };

  const loop = (async () => {
    for await (const m of sub) {
      const p = answer(m)
        .catch((err) => ctx.logger.error({ subject, err }, "could not answer a command"))
        .finally(() => inflight.delete(p));
      inflight.add(p);
    }
  })();

  ctx.logger.info({ subject, queue: opts.queue }, "serving command");
  return {
    async stop() {
      if (!sub.isClosed()) await sub.drain();
      await loop;
      await Promise.all(inflight);
      replies.flush();
    },
  };
}

/**
 * Check a reply against its schema and serialise it once, for a handler that answers many
 * requests with the same reply (a document thousands of clients read after a change). Throws
 * when the reply breaks the schema, like a handler's own reply would be refused.
 */
export function encodeReply<Rep extends z.ZodType>(schema: Rep, reply: z.input<Rep>): EncodedReply<Rep> {
  return new EncodedReply<Rep>(JSON.stringify(schema.parse(reply)));
}

/**
 * Replies finished in one turn of the event loop leave together: the connection writes what was
 * published in one go, so a burst of requests (every client of a document reading it after a
 * change) costs one socket write per turn instead of one per reply.
 */
function replyBatch(onError: (err: unknown) => void) {
  let batch: [Msg, string][] = [];
  let scheduled: NodeJS.Immediate | undefined;
  const flush = () => {
    scheduled = undefined;
    const ready = batch;
    batch = [];
    for (const [m, json] of ready) {
      try {
        m.respond(json);
      } catch (err) {
        onError(err);
      }
    }
  };
  return {
    add(m: Msg, json: string) {
      batch.push([m, json]);
      scheduled ??= setImmediate(flush);
    },
    flush() {
      if (scheduled) clearImmediate(scheduled);
      flush();
    },
  };
}

function invalid(message: string, field?: string, details?: unknown): ErrorReply {
  const error: CommandError = { statusCode: 400, code: "invalid_command", message };
  if (field) error.field = field;
  if (details !== undefined) error.details = details;
  return { ok: false, error };
}

function internal(): ErrorReply {
  return { ok: false, error: { statusCode: 500, code: "internal_error", message: "internal error" } };
}

function fromAppError(err: AppError): ErrorReply {
  const error: CommandError = { statusCode: err.statusCode, code: err.code, message: err.message };
  if (err.field !== undefined) error.field = err.field;
  if (err.details !== undefined) error.details = err.details;
  return { ok: false, error };
}

function encode(reply: unknown): string {
  try {
    return JSON.stringify(reply);
  } catch {
    // details that do not serialise (a cycle, a bigint) must not cost the caller its answer
    const r = reply as ErrorReply;
    return JSON.stringify(
      r.ok === false ? { ok: false, error: { ...r.error, details: undefined } } : internal(),
    );
  }
}

/**
 * Send a command and parse the reply. Transport failures become AppErrors the HTTP layer already
 * knows how to render: nobody serving the subject → 503, no answer in time → 504.
 */
export async function requestCommand<Rep extends z.ZodType>(
  ctx: Pick<BusContext, "nc" | "prefix">,
  subject: string,
  body: unknown,
  replySchema: Rep,
  timeoutMs = 5_000,
): Promise<z.infer<Rep>> {
  const full = prefixSubject(ctx.prefix, subject);
  const payload = JSON.stringify(body);
  const send = (headers: Record<string, string>) =>
    ctx.nc.request(full, payload, { timeout: timeoutMs, headers: toMsgHdrs(headers) });
  let msg: Msg;
  try {
    msg = isTracingEnabled()
      ? await withCommandClientSpan({ subject: full, bodySize: Buffer.byteLength(payload) }, send)
      : await send(traceHeaders());
  } catch (err) {
    if (err instanceof NoRespondersError || (err instanceof RequestError && err.isNoResponders())) {
      throw new ServiceUnavailableError("command_unavailable", `nothing is serving ${subject}`, {
        cause: err,
      });
    }
    if (err instanceof TimeoutError) {
      throw new AppError(504, "command_timeout", `no reply to ${subject} within ${timeoutMs} ms`, {
        cause: err,
      });
    }
    throw err;
  }
  return replySchema.parse(JSON.parse(msg.string()));
}
