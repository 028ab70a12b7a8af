/** The exact bodies sent to Slack, PagerDuty and generic webhooks. No I/O. */
import { createHmac } from "node:crypto";
import type { DeliveryAction, MessageAlert, NotificationMessage } from "./message-types.js";
import {
  alertLines,
  humanTime,
  plainText,
  SEVERITY_MARK,
  sinceLine,
  statusWord,
  titleOf,
  whereOf,
} from "./text-fns.js";

const cut = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);

/** Slack allows 50 blocks; each alert takes three, so the message shows the first ones and counts the rest. */
const SLACK_MAX_ALERTS = 12;

export function slackPayload(m: NotificationMessage) {
  const blocks: object[] = [
    { type: "header", text: { type: "plain_text", text: cut(titleOf(m), 150), emoji: true } },
  ];
  for (const a of m.alerts.slice(0, SLACK_MAX_ALERTS)) blocks.push(...slackAlertBlocks(a));
  if (m.alerts.length > SLACK_MAX_ALERTS) {
    blocks.push({
      type: "context",
      elements: [
        { type: "mrkdwn", text: `…and ${m.alerts.length - SLACK_MAX_ALERTS} more alerts in this group.` },
      ],
    });
  }
  return { text: cut(plainText(m), 3000), blocks };
}

function slackAlertBlocks(a: MessageAlert): object[] {
  const where = whereOf(a.labels);
  const fields = [
    { type: "mrkdwn", text: `*Status*\n${SEVERITY_MARK[a.severity] ?? ""} ${statusWord(a)} (${a.severity})` },
    ...(where ? [{ type: "mrkdwn", text: `*Where*\n${cut(where, 1900)}` }] : []),
    { type: "mrkdwn", text: `*When*\n${sinceLine(a)}` },
    ...(a.actionTaken ? [{ type: "mrkdwn", text: `*What Nexus did*\n${cut(a.actionTaken, 1900)}` }] : []),
  ];
  const blocks: object[] = [
    {
      type: "section",
      text: { type: "mrkdwn", text: cut(`*${a.summary}*${a.details ? `\n${a.details}` : ""}`, 3000) },
      fields,
    },
    {
      type: "context",
      elements: [
        {
          type: "mrkdwn",
          text: cut(
            `Source: ${a.source} · fingerprint ${a.fingerprint} · started ${humanTime(a.startsAt)}`,
            3000,
          ),
        },
      ],
    },
  ];
  const buttons = a.links.slice(0, 5).map((l, i) => ({
    type: "button",
    action_id: `link-${i}`,
    text: { type: "plain_text", text: cut(l.title, 75) },
    url: l.url,
  }));
  if (buttons.length) blocks.push({ type: "actions", elements: buttons });
  return blocks;
}

/** PagerDuty severities are exactly ours (critical, error, warning, info). */
export function pagerDutyPayload(
  routingKey: string,
  action: Exclude<DeliveryAction, "notify">,
  a: MessageAlert,
  clientUrl?: string,
) {
  if (action !== "trigger")
    return { routing_key: routingKey, event_action: action, dedup_key: a.fingerprint };
  return {
    routing_key: routingKey,
    event_action: "trigger" as const,
    dedup_key: a.fingerprint,
    payload: {
      summary: cut(a.summary, 1024),
      source: whereOf(a.labels) ?? a.source,
      severity: a.severity,
      timestamp: a.startsAt,
      component: a.labels.service ?? a.labels.namespace ?? a.source,
      group: a.labels.environment ?? a.labels.namespace ?? a.source,
      class: a.eventType,
      custom_details: {
        details: a.details,
        ...(a.actionTaken ? { nexus_did: a.actionTaken } : {}),
        labels: a.labels,
        text: alertLines(a).join("\n"),
      },
    },
    client: "Nexus",
    ...(clientUrl ? { client_url: clientUrl } : {}),
    links: a.links.map((l) => ({ href: l.url, text: l.title })),
  };
}

export function webhookBody(m: NotificationMessage, deliveryId: string) {
  return {
    version: "1",
    deliveryId,
    receiver: m.receiver,
    groupKey: m.groupKey,
    groupLabels: m.groupLabels,
    status: m.alerts.some((a) => a.status === "firing")
      ? "firing"
      : m.alerts.some((a) => a.status === "resolved")
        ? "resolved"
        : "notice",
    title: titleOf(m),
    text: plainText(m),
    alerts: m.alerts,
  };
}

/** `X-Nexus-Signature: sha256=<hex of HMAC-SHA256(secret, timestamp + "." + body)>`. */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}
