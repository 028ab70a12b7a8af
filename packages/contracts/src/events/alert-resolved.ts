import { z } from "zod";
import { AlertBody } from "./alert-raised.js";

export const ALERT_RESOLVED = "nexus.alert.resolved" as const;

/** The alert with this fingerprint stopped firing at `endsAt`. */
export const AlertResolved = AlertBody.extend({
  endsAt: z.iso.datetime({ offset: true }),
});
export type AlertResolved = z.infer<typeof AlertResolved>;

export const alertResolvedSubject = (d: Pick<AlertResolved, "severity" | "source">) =>
  `${ALERT_RESOLVED}.${d.source}.${d.severity}`;
