import { z } from "zod";

/**
 * CloudEvents 1.0 structured-mode envelope. Every event on the bus is one of these, with `data`
 * validated against the event's own schema from the catalog.
 */
export const CloudEventAttributes = z.object({
  specversion: z.literal("1.0"),
  id: z.uuid(),
  source: z.string().min(1),
  type: z.string().min(1),
  subject: z.string().min(1).optional(),
  time: z.iso.datetime({ offset: true }),
  datacontenttype: z.literal("application/json"),
  dataschema: z.string().optional(),
});

export const cloudEvent = <T extends z.ZodType>(data: T) => CloudEventAttributes.extend({ data });

export type CloudEvent<T> = z.infer<typeof CloudEventAttributes> & { data: T };
