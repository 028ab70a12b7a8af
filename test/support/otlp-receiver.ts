import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** A span as OTLP/JSON carries it (ids are hex strings; kinds numbered from SPAN_KIND_UNSPECIFIED = 0). */
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: { key: string; value: { stringValue?: string; intValue?: string | number } }[];
}
interface OtlpExport {
  resourceSpans: {
    resource: { attributes: { key: string; value: { stringValue?: string; intValue?: string | number } }[] };
    scopeSpans: { spans: OtlpSpan[] }[];
  }[];
}
export const SPAN_KIND = { SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;

export interface ReceivedSpan extends OtlpSpan {
  /** The exporting process's `service.name`, `service.instance.id` and `process.pid` resource attributes. */
  service: string;
  instance: string;
  pid: string;
}

export function spanAttribute(span: OtlpSpan, key: string): string | undefined {
  const v = span.attributes?.find((a) => a.key === key)?.value;
  return v?.stringValue ?? (v?.intValue !== undefined ? String(v.intValue) : undefined);
}

export interface OtlpReceiver {
  /** The base URL for OTEL_EXPORTER_OTLP_ENDPOINT. */
  endpoint: string;
  spans: ReceivedSpan[];
  contentTypes: Set<string>;
  close(): Promise<void>;
}

/** A local OTLP/HTTP receiver for the JSON encoding: POST /v1/traces, spans kept in order of arrival. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const contentTypes = new Set<string>();
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => {
      body += d;
    });
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/v1/traces") {
        res.writeHead(404).end();
        return;
      }
      contentTypes.add(String(req.headers["content-type"]));
      const payload = JSON.parse(body) as OtlpExport;
      for (const rs of payload.resourceSpans) {
        const resource = (key: string) => {
          const v = rs.resource.attributes.find((a) => a.key === key)?.value;
          return v?.stringValue ?? (v?.intValue !== undefined ? String(v.intValue) : "");
        };
        for (const ss of rs.scopeSpans)
          for (const span of ss.spans)
            spans.push({
              ...span,
              service: resource("service.name"),
              instance: resource("service.instance.id"),
              pid: resource("process.pid"),
            });
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    contentTypes,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
