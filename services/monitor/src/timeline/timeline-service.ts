import type { RevisionRecordDto, RevisionReportsDto, RevisionTimelineDto } from "@nexus/contracts";
import { AppError } from "@nexus/kit";
import type { RelayClient } from "../dashboard/relay-client.js";
import { environmentsOf, fingerprintsOf, noteMissing, timelineOf } from "./timeline-fns.js";
import type { DeliveryInfo, RunInfo } from "./timeline-types.js";

export interface TimelineDeps {
  registry: RelayClient;
  drift: RelayClient;
  notifier: RelayClient;
  orchestrator: RelayClient;
}

type Missing = RevisionTimelineDto["missing"];
const enc = encodeURIComponent;

/**
 * The timeline of one revision, asked of each service with the caller's own token (each applies
 * its access rules). The registry must answer (no revision, no timeline); a part another service
 * cannot give (not configured, not answering, refusing the caller) is left out and named.
 */
export function createTimelineService(deps: TimelineDeps) {
  async function part<T>(
    missing: Missing,
    service: string,
    client: RelayClient,
    ask: () => Promise<T>,
    fallback: T,
  ): Promise<T> {
    if (!client.configured()) {
      noteMissing(missing, service, "the monitor has no URL for it");
      return fallback;
    }
    try {
      return await ask();
    } catch (err) {
      noteMissing(
        missing,
        service,
        err instanceof AppError ? `${err.statusCode} ${err.code}: ${err.message}` : String(err),
      );
      return fallback;
    }
  }

  return {
    async revision(namespace: string, revision: number, token: string): Promise<RevisionTimelineDto> {
      const record = (
        await deps.registry.call("GET", `/v1/namespaces/${enc(namespace)}/revisions/${revision}`, token)
      ).body as RevisionRecordDto;
      const missing: Missing = [];

      const eventIdsOf = (environment: string) =>
        record.events
          .filter((e) => e.environment === environment)
          .slice(0, 20)
          .map((e) => e.eventId)
          .join(",");
      const reportsOf = (environment: string) =>
        part(
          missing,
          "drift-detector",
          deps.drift,
          async () =>
            (
              await deps.drift.call(
                "GET",
                `/v1/namespaces/${enc(namespace)}/environments/${enc(environment)}/revisions/${revision}/reports?eventIds=${eventIdsOf(environment)}`,
                token,
              )
            ).body as RevisionReportsDto,
          null,
        );
      const runsOf = () =>
        part(
          missing,
          "orchestrator",
          deps.orchestrator,
          async () => {
            const list = (
              await deps.orchestrator.call(
                "GET",
                `/v1/runs?namespace=${enc(namespace)}&sourceRevision=${revision}&limit=20`,
                token,
              )
            ).body as { items: Array<{ id: string }> };
            return Promise.all(
              list.items.map(
                async (r) =>
                  (await deps.orchestrator.call("GET", `/v1/runs/${enc(r.id)}`, token)).body as RunInfo,
              ),
            );
          },
          [] as RunInfo[],
        );
      const [reportList, runs] = await Promise.all([
        Promise.all(environmentsOf(record).map(reportsOf)),
        runsOf(),
      ]);
      const reports = reportList.filter((r): r is RevisionReportsDto => r !== null);

      const fingerprints = fingerprintsOf({ record, reports });
      const deliveryLists = await Promise.all(
        fingerprints.map((fingerprint) =>
          part(
            missing,
            "notifier",
            deps.notifier,
            async () =>
              (
                (
                  await deps.notifier.call(
                    "GET",
                    `/v1/deliveries?fingerprint=${enc(fingerprint)}&limit=50`,
                    token,
                  )
                ).body as { items: DeliveryInfo[] }
              ).items,
            [] as DeliveryInfo[],
          ),
        ),
      );
      // A grouped message names several alerts: list it once.
      const deliveries = [...new Map(deliveryLists.flat().map((d) => [d.id, d])).values()];

      return {
        namespace: record.namespace,
        revision: record.revision,
        layer: record.layer,
        author: record.author,
        traceId: record.traceId,
        steps: timelineOf({ record, reports, deliveries, runs }),
        missing,
      };
    },
  };
}
export type TimelineService = ReturnType<typeof createTimelineService>;
