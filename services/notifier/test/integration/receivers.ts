/** Real local stand-ins for Slack, PagerDuty, webhooks (HTTP) and an SMTP server. */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  body: unknown;
  at: number;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Hold the answer back (a slow or hung receiver). */
  delayMs?: number;
}

export interface ScriptedReceiver {
  url: string;
  requests: ReceivedRequest[];
  /** Answers to give, in order; when used up, `fallback`. */
  script: Answer[];
  fallback: Answer;
  /** Resolves once `n` requests arrived (or rejects after timeoutMs). */
  waitFor(n: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

export async function startReceiver(
  fallback: Answer = { status: 200, body: "ok" },
): Promise<ScriptedReceiver> {
  const requests: ReceivedRequest[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const receiver: ScriptedReceiver = {
    url: "",
    requests,
    script: [],
    fallback,
    async waitFor(n, timeoutMs = 10_000) {
      if (requests.length < n) {
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(
            () => reject(new Error(`expected ${n} requests, got ${requests.length}`)),
            timeoutMs,
          );
          waiters.push({
            n,
            resolve: () => {
              clearTimeout(t);
              resolve();
            },
          });
        });
      }
      return requests.slice(0, n);
    },
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      let body: unknown = raw;
      try {
        body = JSON.parse(raw);
      } catch {}
      requests.push({ path: req.url ?? "", headers: req.headers, raw, body, at: Date.now() });
      for (const w of waiters.filter((w) => requests.length >= w.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
      const answer = receiver.script.shift() ?? receiver.fallback;
      const send = () => {
        res.writeHead(answer.status, { "content-type": "text/plain", ...answer.headers });
        res.end(answer.body ?? "");
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}

export interface SmtpSink {
  port: number;
  mails: { from: string; to: string[]; raw: string }[];
  /** The passwords clients logged in with (to see a secret arrived in plaintext). */
  passwords: string[];
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** A real SMTP server on loopback that keeps every message it accepts (no TLS, any login). */
export async function startSmtpSink(): Promise<SmtpSink> {
  const mails: SmtpSink["mails"] = [];
  const passwords: string[] = [];
  const server = new SMTPServer({
    disabledCommands: ["STARTTLS"],
    authOptional: true,
    onAuth: (auth, _session, cb) => {
      if (auth.password) passwords.push(auth.password);
      cb(null, { user: "test" });
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString("utf8"),
        });
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    mails,
    passwords,
    async waitFor(n, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (mails.length < n) {
        if (Date.now() > deadline) throw new Error(`expected ${n} mails, got ${mails.length}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}
