/** Sending one delivery to one receiver, and what came of it. */
import nodemailer from "nodemailer";
import type { Receiver } from "../routing/routing-types.js";
import type { DeliveryAction, NotificationMessage } from "./message-types.js";
import { type Outbound, OutboundRefusedError, resolveChecked } from "./outbound.js";
import { pagerDutyPayload, signWebhook, slackPayload, webhookBody } from "./payload-fns.js";
import { outcomeForStatus, receiverNow, type SendOutcome } from "./send-outcome-fns.js";
import type { SlackPacing } from "./slack-pacing.js";
import { html, plainText, titleOf } from "./text-fns.js";

export interface SendersConfig {
  outbound: Outbound;
  timeoutMs: number;
  /** Slack allows about one message per second per incoming webhook. */
  slackIntervalMs: number;
  /** Where the per-webhook slots are kept (shared by every instance). */
  slackPacing: SlackPacing;
  /** A Slack message whose slot is further away than this is put back in the queue instead of waited for. */
  maxPacingWaitMs: number;
  /** PagerDuty `client_url`: where the incident links back to. */
  dashboardUrl?: string | undefined;
  now?: () => number;
  /**
   * What pacing did to a Slack message (metrics): waited `waitMs` for its slot, or went back to
   * the queue because its slot was far off (`slot_far`) or a 429 held the webhook (`held`).
   */
  onSlackPacing?: (
    event: { kind: "waited"; waitMs: number } | { kind: "postponed"; reason: "slot_far" | "held" },
  ) => void;
}

export interface OutgoingDelivery {
  id: string;
  action: DeliveryAction;
  message: NotificationMessage;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function createSenders(config: SendersConfig) {
  const now = config.now ?? Date.now;

  const http = async (
    url: string,
    body: string,
    headers: Record<string, string> = {},
  ): Promise<SendOutcome & { retryAfterMs?: number }> => {
    const res = await config.outbound.post(url, body, headers);
    const retryAfter = res.headers["retry-after"];
    const date = res.headers.date;
    return outcomeForStatus(
      res.status,
      typeof retryAfter === "string" ? retryAfter : null,
      receiverNow(typeof date === "string" ? date : null, now()),
      res.body,
    );
  };

  async function slack(webhookUrl: string, d: OutgoingDelivery): Promise<SendOutcome> {
    const slot = await config.slackPacing.claim(webhookUrl, config.slackIntervalMs, config.maxPacingWaitMs);
    if (!slot.go) {
      config.onSlackPacing?.({ kind: "postponed", reason: "slot_far" });
      return { kind: "postpone", afterMs: slot.afterMs };
    }
    if (slot.waitMs > 0) await sleep(slot.waitMs);
    // A 429 that arrived while this message waited for its slot holds it too: it goes back to the
    // queue until the hold ends, without using up an attempt (Slack asked to wait, nothing failed).
    const heldMs = await config.slackPacing.heldForMs(webhookUrl);
    if (heldMs > 0) {
      config.onSlackPacing?.({ kind: "postponed", reason: "held" });
      return { kind: "postpone", afterMs: heldMs };
    }
    config.onSlackPacing?.({ kind: "waited", waitMs: slot.waitMs });
    const outcome = await http(webhookUrl, JSON.stringify(slackPayload(d.message)));
    if (outcome.kind === "retry" && outcome.statusCode === 429 && outcome.afterMs !== undefined) {
      // Slack said how long this webhook must stay quiet: every queued message waits too.
      await config.slackPacing.hold(webhookUrl, outcome.afterMs);
    }
    return outcome;
  }

  async function pagerDuty(
    r: Extract<Receiver, { type: "pagerduty" }>,
    d: OutgoingDelivery,
  ): Promise<SendOutcome> {
    const alert = d.message.alerts[0];
    if (!alert || d.action === "notify")
      return {
        kind: "fail",
        statusCode: null,
        error: "a PagerDuty delivery carries one alert and an event action",
      };
    return http(r.url, JSON.stringify(pagerDutyPayload(r.routingKey, d.action, alert, config.dashboardUrl)));
  }

  async function webhook(
    r: Extract<Receiver, { type: "webhook" }>,
    d: OutgoingDelivery,
  ): Promise<SendOutcome> {
    const body = JSON.stringify(webhookBody(d.message, d.id));
    const timestamp = Math.floor(now() / 1000);
    const headers: Record<string, string> = {
      ...r.headers,
      "x-nexus-timestamp": String(timestamp),
      "x-nexus-delivery": d.id,
    };
    if (r.signingSecret) headers["x-nexus-signature"] = signWebhook(r.signingSecret, timestamp, body);
    return http(r.url, body, headers);
  }

  async function email(r: Extract<Receiver, { type: "email" }>, d: OutgoingDelivery): Promise<SendOutcome> {
    const address = await resolveChecked(r.smtp.host, config.outbound.policy);
    const transport = nodemailer.createTransport({
      host: address,
      port: r.smtp.port,
      secure: r.smtp.secure,
      ...(r.smtp.user ? { auth: { user: r.smtp.user, pass: r.smtp.password ?? "" } } : {}),
      tls: { servername: r.smtp.host },
      connectionTimeout: config.timeoutMs,
      greetingTimeout: config.timeoutMs,
      socketTimeout: config.timeoutMs,
    });
    try {
      await transport.sendMail({
        from: r.from,
        to: r.to,
        subject: titleOf(d.message).slice(0, 250),
        text: plainText(d.message),
        html: html(d.message),
        headers: { "X-Nexus-Delivery": d.id },
      });
      return { kind: "delivered", statusCode: 250 };
    } catch (err) {
      const code = (err as { responseCode?: number }).responseCode;
      const error = `SMTP: ${(err as Error).message}`.slice(0, 500);
      if (code && code >= 500) return { kind: "fail", statusCode: code, error };
      return { kind: "retry", statusCode: code ?? null, error };
    } finally {
      transport.close();
    }
  }

  return {
    async send(receiver: Receiver, d: OutgoingDelivery): Promise<SendOutcome> {
      try {
        switch (receiver.type) {
          case "slack":
            return await slack(receiver.webhookUrl, d);
          case "pagerduty":
            return await pagerDuty(receiver, d);
          case "webhook":
            return await webhook(receiver, d);
          case "email":
            return await email(receiver, d);
        }
      } catch (err) {
        if (err instanceof OutboundRefusedError)
          return { kind: "fail", statusCode: null, error: `refused: ${err.message}` };
        return { kind: "retry", statusCode: null, error: describeError(err) };
      }
    },
  };
}
export type Senders = ReturnType<typeof createSenders>;

/** Network errors in words, without URLs (a webhook URL is a secret). */
function describeError(err: unknown): string {
  const e = err as {
    code?: string;
    message?: string;
    name?: string;
    cause?: { code?: string; message?: string };
  };
  const code = e.code ?? e.cause?.code;
  const message = (e.message ?? String(err)).replace(/https?:\/\/\S+/g, "<url>");
  return `${code ? `${code}: ` : ""}${message}`.slice(0, 500);
}
