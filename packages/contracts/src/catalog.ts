import type { z } from "zod";
import { ALERT_RAISED, AlertRaised, alertRaisedSubject } from "./events/alert-raised.js";
import { ALERT_RESOLVED, AlertResolved, alertResolvedSubject } from "./events/alert-resolved.js";
import {
  AUTH_TOKEN_REVOKED,
  AuthTokenRevoked,
  authTokenRevokedSubject,
} from "./events/auth-token-revoked.js";
import { BACKUP_FAILED, BackupFailed, backupFailedSubject } from "./events/backup-failed.js";
import { BACKUP_VERIFIED, BackupVerified, backupVerifiedSubject } from "./events/backup-verified.js";
import { CONFIG_APPLIED, ConfigApplied, configAppliedSubject } from "./events/config-applied.js";
import {
  CONFIG_CHANGE_APPROVED,
  CONFIG_CHANGE_REJECTED,
  ConfigChangeApproved,
  ConfigChangeRejected,
  configChangeApprovedSubject,
  configChangeRejectedSubject,
} from "./events/config-change-decided.js";
import {
  CONFIG_CHANGE_REQUESTED,
  ConfigChangeRequested,
  configChangeRequestedSubject,
} from "./events/config-change-requested.js";
import { CONFIG_CHANGED, ConfigChanged, configChangedSubject } from "./events/config-changed.js";
import { DRIFT_DETECTED, DriftDetected, driftDetectedSubject } from "./events/drift-detected.js";
import { DRIFT_ESCALATED, DriftEscalated, driftEscalatedSubject } from "./events/drift-escalated.js";
import { findingAbout } from "./events/drift-finding.js";
import {
  DRIFT_REMEDIATION_REQUESTED,
  DriftRemediationRequested,
  driftRemediationRequestedSubject,
} from "./events/drift-remediation-requested.js";
import { DRIFT_RESOLVED, DriftResolved, driftResolvedSubject } from "./events/drift-resolved.js";
import { GIT_IMPORT_FAILED, GitImportFailed, gitImportFailedSubject } from "./events/git-import-failed.js";
import { GIT_IMPORTED, GitImported, gitImportedSubject } from "./events/git-imported.js";
import { GIT_PUSHED, GitPushed, gitPushedSubject } from "./events/git-pushed.js";
import {
  INSTANCE_HEARTBEAT,
  InstanceHeartbeat,
  instanceHeartbeatSubject,
} from "./events/instance-heartbeat.js";
import { JOB_FAILED, JobFailed, jobFailedSubject } from "./events/job-failed.js";
import { JOB_STARTED, JobStarted, jobStartedSubject } from "./events/job-started.js";
import { JOB_SUCCEEDED, JobSucceeded, jobSucceededSubject } from "./events/job-succeeded.js";
import { PIPELINE_APPROVED, PipelineApproved, pipelineApprovedSubject } from "./events/pipeline-approved.js";
import {
  PIPELINE_AWAITING_APPROVAL,
  PipelineAwaitingApproval,
  pipelineAwaitingApprovalSubject,
} from "./events/pipeline-awaiting-approval.js";
import { PIPELINE_FAILED, PipelineFailed, pipelineFailedSubject } from "./events/pipeline-failed.js";
import {
  PIPELINE_ROLLED_BACK,
  PipelineRolledBack,
  pipelineRolledBackSubject,
} from "./events/pipeline-rolled-back.js";
import { PIPELINE_STARTED, PipelineStarted, pipelineStartedSubject } from "./events/pipeline-started.js";
import {
  PIPELINE_STEP_FAILED,
  PipelineStepFailed,
  pipelineStepFailedSubject,
} from "./events/pipeline-step-failed.js";
import {
  PIPELINE_STEP_STARTED,
  PipelineStepStarted,
  pipelineStepStartedSubject,
} from "./events/pipeline-step-started.js";
import {
  PIPELINE_STEP_SUCCEEDED,
  PipelineStepSucceeded,
  pipelineStepSucceededSubject,
} from "./events/pipeline-step-succeeded.js";
import {
  PIPELINE_SUCCEEDED,
  PipelineSucceeded,
  pipelineSucceededSubject,
} from "./events/pipeline-succeeded.js";
import { POLICY_VIOLATED, PolicyViolated, policyViolatedSubject } from "./events/policy-violated.js";
import {
  ROLLOUT_PROGRESSED,
  RolloutProgressed,
  rolloutProgressedSubject,
} from "./events/rollout-progressed.js";

export interface EventDefinition<S extends z.ZodType = z.ZodType> {
  /** CloudEvents `type`, also the subject root. */
  type: string;
  description: string;
  schema: S;
  /** Full subject for one event; identifiers come last. */
  subject: (data: z.infer<S>) => string;
  /** CloudEvents `subject` attribute: what the event is about. */
  about: (data: z.infer<S>) => string;
}

const defineEvent = <S extends z.ZodType>(def: EventDefinition<S>) => def;

/** Every event on the bus. Handlers are typed from this map; streams capture `<type>.>`. */
export const eventCatalog = {
  [CONFIG_CHANGE_REQUESTED]: defineEvent({
    type: CONFIG_CHANGE_REQUESTED,
    description: "A write to a protected environment waits for an approver other than its author.",
    schema: ConfigChangeRequested,
    subject: configChangeRequestedSubject,
    about: (d) => `change-request/${d.changeRequestId}`,
  }),
  [CONFIG_CHANGE_APPROVED]: defineEvent({
    type: CONFIG_CHANGE_APPROVED,
    description: "A change request was approved and applied as a new revision.",
    schema: ConfigChangeApproved,
    subject: configChangeApprovedSubject,
    about: (d) => `change-request/${d.changeRequestId}`,
  }),
  [CONFIG_CHANGE_REJECTED]: defineEvent({
    type: CONFIG_CHANGE_REJECTED,
    description: "A change request was rejected; nothing was written.",
    schema: ConfigChangeRejected,
    subject: configChangeRejectedSubject,
    about: (d) => `change-request/${d.changeRequestId}`,
  }),
  [AUTH_TOKEN_REVOKED]: defineEvent({
    type: AUTH_TOKEN_REVOKED,
    description: "An API token was revoked or expired; every service drops it from its cache at once.",
    schema: AuthTokenRevoked,
    subject: authTokenRevokedSubject,
    about: (d) => `token/${d.tokenId}`,
  }),
  [CONFIG_CHANGED]: defineEvent({
    type: CONFIG_CHANGED,
    description: "The resolved configuration of a namespace in one environment changed.",
    schema: ConfigChanged,
    subject: configChangedSubject,
    about: (d) => `${d.namespace}/${d.environment}`,
  }),
  [CONFIG_APPLIED]: defineEvent({
    type: CONFIG_APPLIED,
    description:
      "A consuming instance applied (or rejected) a resolved revision of a namespace in one environment.",
    schema: ConfigApplied,
    subject: configAppliedSubject,
    about: (d) => `${d.namespace}/${d.environment}/${d.instanceId}`,
  }),
  [INSTANCE_HEARTBEAT]: defineEvent({
    type: INSTANCE_HEARTBEAT,
    description:
      "A consuming instance is alive and runs this revision and hash (sent every intervalSeconds).",
    schema: InstanceHeartbeat,
    subject: instanceHeartbeatSubject,
    about: (d) => `${d.namespace}/${d.environment}/${d.instanceId}`,
  }),
  [ALERT_RAISED]: defineEvent({
    type: ALERT_RAISED,
    description: "An alert started firing (or fired again): the notifier routes it to people.",
    schema: AlertRaised,
    subject: alertRaisedSubject,
    about: (d) => d.fingerprint,
  }),
  [ALERT_RESOLVED]: defineEvent({
    type: ALERT_RESOLVED,
    description: "The alert with this fingerprint stopped firing.",
    schema: AlertResolved,
    subject: alertResolvedSubject,
    about: (d) => d.fingerprint,
  }),
  [DRIFT_DETECTED]: defineEvent({
    type: DRIFT_DETECTED,
    description:
      "The drift-detector opened a finding: an instance is stale, rejected a revision, or runs content that differs from its revision.",
    schema: DriftDetected,
    subject: driftDetectedSubject,
    about: findingAbout,
  }),
  [DRIFT_RESOLVED]: defineEvent({
    type: DRIFT_RESOLVED,
    description: "A drift finding (any kind, policy included) resolved by itself.",
    schema: DriftResolved,
    subject: driftResolvedSubject,
    about: findingAbout,
  }),
  [DRIFT_ESCALATED]: defineEvent({
    type: DRIFT_ESCALATED,
    description:
      "Remediation of a drift finding failed repeatedly; the detector stopped retrying and raised it to critical.",
    schema: DriftEscalated,
    subject: driftEscalatedSubject,
    about: findingAbout,
  }),
  [DRIFT_REMEDIATION_REQUESTED]: defineEvent({
    type: DRIFT_REMEDIATION_REQUESTED,
    description:
      "The drift-detector acted to repair a finding: a resync command to one instance, or a re-import of a Git source's head (source drift).",
    schema: DriftRemediationRequested,
    subject: driftRemediationRequestedSubject,
    about: (d) => `${d.namespace}/${d.environment}/${d.instanceId ?? d.gitSource ?? "git"}`,
  }),
  [POLICY_VIOLATED]: defineEvent({
    type: POLICY_VIOLATED,
    description: "The resolved configuration of a namespace in one environment breaks a compliance policy.",
    schema: PolicyViolated,
    subject: policyViolatedSubject,
    about: findingAbout,
  }),
  [GIT_PUSHED]: defineEvent({
    type: GIT_PUSHED,
    description:
      "A verified webhook reported a push to the repository of a Git source; the registry imports it.",
    schema: GitPushed,
    subject: gitPushedSubject,
    about: (d) => `git-source/${d.sourceId}`,
  }),
  [GIT_IMPORTED]: defineEvent({
    type: GIT_IMPORTED,
    description: "A commit of a Git source was imported as revisions (all its files, in one transaction).",
    schema: GitImported,
    subject: gitImportedSubject,
    about: (d) => `git-source/${d.sourceId}`,
  }),
  [GIT_IMPORT_FAILED]: defineEvent({
    type: GIT_IMPORT_FAILED,
    description: "A commit of a Git source could not be imported; nothing from it was applied.",
    schema: GitImportFailed,
    subject: gitImportFailedSubject,
    about: (d) => `git-source/${d.sourceId}`,
  }),
  [BACKUP_VERIFIED]: defineEvent({
    type: BACKUP_VERIFIED,
    description:
      "A backup was restored into a scratch schema and matched its source table by table (row counts and ordered content hashes).",
    schema: BackupVerified,
    subject: backupVerifiedSubject,
    about: (d) => `backup/${d.backupId}`,
  }),
  [BACKUP_FAILED]: defineEvent({
    type: BACKUP_FAILED,
    description: "A backup could not be taken, or its verification restore did not reproduce the source.",
    schema: BackupFailed,
    subject: backupFailedSubject,
    about: (d) => `backup/${d.backupId}`,
  }),
  [PIPELINE_STARTED]: defineEvent({
    type: PIPELINE_STARTED,
    description:
      "A run of a pipeline started: manually, on a config change or change request, or on a schedule.",
    schema: PipelineStarted,
    subject: pipelineStartedSubject,
    about: (d) => `pipeline-run/${d.runId}`,
  }),
  [PIPELINE_STEP_STARTED]: defineEvent({
    type: PIPELINE_STEP_STARTED,
    description: "A step of a pipeline run started (attempt > 1: resumed after an instance died).",
    schema: PipelineStepStarted,
    subject: pipelineStepStartedSubject,
    about: (d) => `pipeline-run/${d.runId}`,
  }),
  [PIPELINE_STEP_SUCCEEDED]: defineEvent({
    type: PIPELINE_STEP_SUCCEEDED,
    description: "A step of a pipeline run finished; it will not run again.",
    schema: PipelineStepSucceeded,
    subject: pipelineStepSucceededSubject,
    about: (d) => `pipeline-run/${d.runId}`,
  }),
  [PIPELINE_STEP_FAILED]: defineEvent({
    type: PIPELINE_STEP_FAILED,
    description: "A step of a pipeline run failed.",
    schema: PipelineStepFailed,
    subject: pipelineStepFailedSubject,
    about: (d) => `pipeline-run/${d.runId}`,
  }),
  [PIPELINE_AWAITING_APPROVAL]: defineEvent({
    type: PIPELINE_AWAITING_APPROVAL,
    description: "A pipeline run waits for approvals before it goes on.",
    schema: PipelineAwaitingApproval,
    subject: pipelineAwaitingApprovalSubject,
    about: (d) => `pipeline-run/${d.runId}`,
  }),
  [PIPELINE_APPROVED]: defineEvent({
    type: PIPELINE_APPROVED,
    description: "A pipeline run's approve step got the approvals it needs.",
    schema: PipelineApproved,
    subject: pipelineApprovedSubject,
    about: (d) => `pipeline-run/${d.runId}`,
  }),
  [PIPELINE_ROLLED_BACK]: defineEvent({
    type: PIPELINE_ROLLED_BACK,
    description: "A pipeline run put the target environment back on the last revision that passed.",
    schema: PipelineRolledBack,
    subject: pipelineRolledBackSubject,
    about: (d) => `pipeline-run/${d.runId}`,
  }),
  [PIPELINE_SUCCEEDED]: defineEvent({
    type: PIPELINE_SUCCEEDED,
    description: "Every step of a pipeline run passed.",
    schema: PipelineSucceeded,
    subject: pipelineSucceededSubject,
    about: (d) => `pipeline-run/${d.runId}`,
  }),
  [ROLLOUT_PROGRESSED]: defineEvent({
    type: ROLLOUT_PROGRESSED,
    description:
      "A wave rollout started, released a wave, completed or was aborted; instances holding a revision ask again.",
    schema: RolloutProgressed,
    subject: rolloutProgressedSubject,
    about: (d) => `rollout/${d.rolloutId}`,
  }),
  [PIPELINE_FAILED]: defineEvent({
    type: PIPELINE_FAILED,
    description: "A pipeline run stopped: a step failed, an approval was rejected, or it was cancelled.",
    schema: PipelineFailed,
    subject: pipelineFailedSubject,
    about: (d) => `pipeline-run/${d.runId}`,
  }),
  [JOB_STARTED]: defineEvent({
    type: JOB_STARTED,
    description:
      "A maintenance job's run (compliance scan, backup drill) started, by hand or on its schedule.",
    schema: JobStarted,
    subject: jobStartedSubject,
    about: (d) => `job-run/${d.runId}`,
  }),
  [JOB_SUCCEEDED]: defineEvent({
    type: JOB_SUCCEEDED,
    description: "A maintenance job's run finished without a finding.",
    schema: JobSucceeded,
    subject: jobSucceededSubject,
    about: (d) => `job-run/${d.runId}`,
  }),
  [JOB_FAILED]: defineEvent({
    type: JOB_FAILED,
    description:
      "A maintenance job's run found problems or could not finish; its findings are on the run (GET /v1/job-runs/{id}).",
    schema: JobFailed,
    subject: jobFailedSubject,
    about: (d) => `job-run/${d.runId}`,
  }),
} as const;

export type EventCatalog = typeof eventCatalog;
export type EventType = keyof EventCatalog;
export type EventData<T extends EventType> = z.infer<EventCatalog[T]["schema"]>;
export const eventTypes = Object.keys(eventCatalog) as EventType[];
