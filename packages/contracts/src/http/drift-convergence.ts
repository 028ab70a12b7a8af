import { z } from "zod";

/**
 * The drift-detector's convergence answers: per revision of one environment
 * (`GET /v1/namespaces/{ns}/environments/{env}/convergence`) and the newest revision of every
 * environment the caller may view (`GET /v1/convergence`). The monitor's dashboard reads both.
 */
const revisionConvergence = {
  revision: z.number(),
  firstSeenAt: z.string(),
  applied: z.number(),
  rejected: z.number(),
  runningNow: z.number(),
  stillOlder: z.number(),
  converged: z.boolean(),
  convergenceSeconds: z.number().nullable(),
};

/** How far one revision has reached: instances that applied or rejected it, still older. */
export const RevisionConvergenceDto = z.object(revisionConvergence);
export type RevisionConvergenceDto = z.infer<typeof RevisionConvergenceDto>;

export const RevisionConvergenceListDto = z.object({ items: z.array(RevisionConvergenceDto) });
export type RevisionConvergenceListDto = z.infer<typeof RevisionConvergenceListDto>;

/** The newest revision's convergence of one namespace/environment. */
export const PlaceConvergenceDto = z.object({
  namespace: z.string(),
  environment: z.string(),
  ...revisionConvergence,
});
export type PlaceConvergenceDto = z.infer<typeof PlaceConvergenceDto>;

export const ConvergenceOverviewDto = z.object({ items: z.array(PlaceConvergenceDto) });
export type ConvergenceOverviewDto = z.infer<typeof ConvergenceOverviewDto>;
