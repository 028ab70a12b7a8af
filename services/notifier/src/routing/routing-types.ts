import { z } from "zod";

/** Label names as in Prometheus, plus `event_type`, which every alert carries. */
export const LabelName = z
  .string()
  .regex(/^[a-zA-Z_][a-zA-Z0-9_]{0,99}$/, "must match [a-zA-Z_][a-zA-Z0-9_]*");

export const Matcher = z.object({
  label: LabelName,
  op: z
    .enum(["=", "!=", "=~", "!~"])
    .describe("`=~`/`!~` take a regex anchored at both ends, as in Alertmanager"),
  value: z.string().max(1000),
});
export type Matcher = z.infer<typeof Matcher>;

const Duration = z
  .number()
  .int()
  .min(0)
  .max(7 * 24 * 3600 * 1000);
const ReceiverName = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, "lowercase letters, digits and '-'");

/**
 * One node of the routing tree. Unset fields inherit from the parent. A root without a receiver
 * sends nothing for alerts no child route takes (they are still stored). An alert goes down the first
 * matching child (or stays at this node when none matches); `continue: true` on a child lets the
 * alert also try the children after it.
 */
export interface Route {
  receiver?: string | undefined;
  matchers?: Matcher[] | undefined;
  continue?: boolean | undefined;
  groupBy?: string[] | undefined;
  groupWaitMs?: number | undefined;
  groupIntervalMs?: number | undefined;
  repeatIntervalMs?: number | undefined;
  routes?: Route[] | undefined;
}

/** The route tree as zod: recursive, so the OpenAPI document shows it once (as a `$ref`). */
export const RouteSchema: z.ZodType<Route> = z
  .object({
    receiver: ReceiverName.optional(),
    matchers: z.array(Matcher).max(32).optional(),
    continue: z.boolean().optional(),
    groupBy: z
      .array(z.union([LabelName, z.literal("...")]))
      .max(32)
      .optional()
      .describe("Labels whose values split alerts into groups; `...` groups by every label"),
    groupWaitMs: Duration.optional(),
    groupIntervalMs: Duration.optional(),
    repeatIntervalMs: Duration.optional(),
    get routes() {
      return z.array(RouteSchema).max(64).optional();
    },
  })
  .strict()
  .meta({
    id: "Route",
    description:
      "One node of the routing tree; unset fields inherit from the parent. An alert goes down the first matching child (or stays at this node when none matches); `continue: true` on a child lets it also try the children after it. A root without a receiver sends nothing for alerts no child takes.",
  });

const SecretString = z.string().min(1).max(2000);
const receiverBase = {
  name: ReceiverName,
  sendResolved: z.boolean().default(true),
};

export const SlackReceiver = z
  .object({ ...receiverBase, type: z.literal("slack"), webhookUrl: SecretString.describe("secret") })
  .strict();
export const PagerDutyReceiver = z
  .object({
    ...receiverBase,
    type: z.literal("pagerduty"),
    routingKey: SecretString.describe("secret: the integration's routing key"),
    url: z.string().max(2000).default("https://events.pagerduty.com/v2/enqueue"),
  })
  .strict();
export const EmailReceiver = z
  .object({
    ...receiverBase,
    type: z.literal("email"),
    to: z.array(z.email()).min(1).max(50),
    from: z.email(),
    smtp: z
      .object({
        host: z.string().min(1).max(253),
        port: z.number().int().min(1).max(65535).default(587),
        secure: z
          .boolean()
          .default(false)
          .describe("TLS from the start (port 465); otherwise STARTTLS when offered"),
        user: z.string().max(200).optional(),
        password: SecretString.optional().describe("secret"),
      })
      .strict(),
  })
  .strict();
export const WebhookReceiver = z
  .object({
    ...receiverBase,
    type: z.literal("webhook"),
    url: SecretString.describe("secret (it may carry a token)"),
    signingSecret: SecretString.optional().describe("secret: key of the X-Nexus-Signature HMAC"),
    headers: z.record(z.string().regex(/^[A-Za-z0-9-]{1,100}$/), z.string().max(2000)).default({}),
  })
  .strict();

export const Receiver = z.discriminatedUnion("type", [
  SlackReceiver,
  PagerDutyReceiver,
  EmailReceiver,
  WebhookReceiver,
]);
export type Receiver = z.infer<typeof Receiver>;
export type ReceiverType = Receiver["type"];

export const InhibitRule = z
  .object({
    sourceMatchers: z.array(Matcher).min(1).max(32),
    targetMatchers: z.array(Matcher).min(1).max(32),
    equal: z.array(LabelName).max(32).default([]).describe("Labels that must have the same value on both"),
  })
  .strict();
export type InhibitRule = z.infer<typeof InhibitRule>;

export const RoutingConfig = z
  .object({
    route: RouteSchema,
    receivers: z.array(Receiver).max(500),
    inhibitRules: z.array(InhibitRule).max(200).default([]),
  })
  .strict();
export type RoutingConfig = z.infer<typeof RoutingConfig>;

/** What the API returns: secrets replaced by REDACTED. */
export const REDACTED = "<redacted>";

export const RoutingVersionDto = z.object({
  version: z.number().int(),
  author: z.string(),
  comment: z.string(),
  createdAt: z.string(),
  config: RoutingConfig,
});
export type RoutingVersionDto = z.infer<typeof RoutingVersionDto>;

/** Defaults for the root route (Alertmanager's). */
export const ROOT_DEFAULTS = {
  groupBy: [] as string[],
  groupWaitMs: 30_000,
  groupIntervalMs: 5 * 60_000,
  repeatIntervalMs: 4 * 3600_000,
};
