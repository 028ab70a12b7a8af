import {
  configChangedSubject,
  configGetSubject,
  instanceResyncSubject,
  rolloutProgressedSubject,
  rolloutTargetSubject,
} from "@nexus/contracts";

/**
 * Contracts spell every subject with the root token `nexus`; an installation (or a test run)
 * may use another prefix, exactly as the services' bus does with NATS_PREFIX.
 */
export const DEFAULT_SUBJECT_PREFIX = "nexus";
export const SUBJECT_PREFIX_PATTERN = /^[a-z][a-z0-9_-]*$/;

export function withPrefix(prefix: string, canonical: string): string {
  if (!canonical.startsWith(`${DEFAULT_SUBJECT_PREFIX}.`)) {
    throw new Error(`subject "${canonical}" must start with "${DEFAULT_SUBJECT_PREFIX}."`);
  }
  return `${prefix}${canonical.slice(DEFAULT_SUBJECT_PREFIX.length)}`;
}

export interface Target {
  namespace: string;
  environment: string;
}

/** The NATS subjects one client uses, under its prefix. */
export function subjectsFor(prefix: string, target: Target) {
  return {
    changes: withPrefix(prefix, configChangedSubject(target)),
    resync: withPrefix(prefix, instanceResyncSubject(target)),
    read: withPrefix(prefix, configGetSubject(target)),
    rollouts: withPrefix(prefix, rolloutProgressedSubject(target)),
    rolloutTarget: withPrefix(prefix, rolloutTargetSubject(target)),
  };
}
