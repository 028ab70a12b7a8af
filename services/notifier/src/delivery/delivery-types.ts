import { z } from "zod";
import type { DeliveryAction, NotificationMessage } from "../receivers/message-types.js";
import type { ReceiverType } from "../routing/routing-types.js";

export interface NewDelivery {
  receiver: string;
  receiverType: ReceiverType;
  groupKey: string | null;
  action: DeliveryAction;
  /** Same key on every retry and re-send: PagerDuty's dedup_key, the webhook's X-Nexus-Delivery. */
  dedupKey: string;
  fingerprints: string[];
  message: NotificationMessage;
  /** The trace each attempt's span joins: that of the alert among `fingerprints` received last. */
  traceParent?: string | null;
}

export const DeliveryStatus = z.enum(["pending", "sending", "delivered", "dead"]);

export const DeliveryDto = z.object({
  id: z.string(),
  receiver: z.string(),
  receiverType: z.string(),
  groupKey: z.string().nullable(),
  action: z.string(),
  dedupKey: z.string(),
  fingerprints: z.array(z.string()),
  status: DeliveryStatus,
  attempts: z.number().int(),
  maxAttempts: z.number().int(),
  nextAttemptAt: z.string().nullable(),
  lastStatusCode: z.number().int().nullable(),
  lastError: z.string().nullable(),
  deadReason: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  deliveredAt: z.string().nullable(),
  title: z.string().describe("The message's first line"),
});
export type DeliveryDto = z.infer<typeof DeliveryDto>;
