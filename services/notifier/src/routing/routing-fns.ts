/** Matching alerts against matchers, walking the routing tree, validating a config. No I/O. */
import {
  type Matcher,
  REDACTED,
  type Receiver,
  ROOT_DEFAULTS,
  type Route,
  type RoutingConfig,
} from "./routing-types.js";

export type Labels = Readonly<Record<string, string>>;

const regexCache = new Map<string, RegExp>();

/** Anchored at both ends, as Alertmanager and Prometheus do. */
export function compileRegex(pattern: string): RegExp {
  let re = regexCache.get(pattern);
  if (!re) {
    re = new RegExp(`^(?:${pattern})$`, "u");
    if (regexCache.size > 10_000) regexCache.clear();
    regexCache.set(pattern, re);
  }
  return re;
}

/** A missing label counts as the empty string (so `foo!=""` means "foo is set"). */
export function matches(m: Matcher, labels: Labels): boolean {
  const v = labels[m.label] ?? "";
  switch (m.op) {
    case "=":
      return v === m.value;
    case "!=":
      return v !== m.value;
    case "=~":
      return compileRegex(m.value).test(v);
    case "!~":
      return !compileRegex(m.value).test(v);
  }
}

export const matchesAll = (matchers: readonly Matcher[] | undefined, labels: Labels): boolean =>
  (matchers ?? []).every((m) => matches(m, labels));

/** Where an alert ends up: one leaf of the tree, with everything inherited from above resolved. */
export interface RouteMatch {
  /** Indexes from the root, e.g. `0.2` (the root is ``). Identifies the node in group keys. */
  path: string;
  receiver: string;
  groupBy: readonly string[];
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
}

export interface MatchOptions {
  /**
   * Notices (config.changed) go only where someone asked for them: to nodes whose own matchers, or
   * an ancestor's, name `event_type`. The root's catch-all receiver does not get them.
   */
  subscribedOnly?: boolean;
}

/** The leaves an alert with these labels is routed to, in tree order (Alertmanager's algorithm). */
export function matchRoutes(root: Route, labels: Labels, options: MatchOptions = {}): RouteMatch[] {
  const rootSettings: RouteMatch = {
    path: "",
    receiver: root.receiver ?? "",
    groupBy: root.groupBy ?? ROOT_DEFAULTS.groupBy,
    groupWaitMs: root.groupWaitMs ?? ROOT_DEFAULTS.groupWaitMs,
    groupIntervalMs: root.groupIntervalMs ?? ROOT_DEFAULTS.groupIntervalMs,
    repeatIntervalMs: root.repeatIntervalMs ?? ROOT_DEFAULTS.repeatIntervalMs,
  };
  const subscribed = namesEventType(root);
  // A root without a receiver is allowed: alerts no route takes are kept in the history, not sent.
  const out = walk(root, rootSettings, labels, subscribed).filter((m) => m.receiver !== "");
  return options.subscribedOnly ? out.filter((m) => m.subscribed).map(strip) : out.map(strip);
}

/**
 * Whether any route subscribes to a notice with these labels. A notice nobody subscribes to is
 * dropped on arrival: it would reach no receiver, so storing it is work for nothing.
 */
export const noticeWanted = (root: Route | undefined, labels: Labels): boolean =>
  root !== undefined && matchRoutes(root, labels, { subscribedOnly: true }).length > 0;

/**
 * Whether a notice of this event type could reach a route that asked for notices: a node that
 * names `event_type` (itself or above) with every `event_type` matcher on the way down to it
 * taking this type (the root's own matchers only subscribe, as in `matchRoutes`). Other labels
 * are not known before an event arrives, so they count as matching: true may be too eager, false
 * is exact. When false, the notifier does not consume that event type at all.
 */
export function mayRouteEventType(root: Route | undefined, eventType: string): boolean {
  if (!root) return false;
  const labels = { event_type: eventType };
  const typeMatchers = (r: Route) => (r.matchers ?? []).filter((m) => m.label === "event_type");
  const reaches = (node: Route, subscribed: boolean): boolean =>
    subscribed ||
    (node.routes ?? []).some((child) => {
      const own = typeMatchers(child);
      return own.every((m) => matches(m, labels)) && reaches(child, own.length > 0);
    });
  return reaches(root, namesEventType(root));
}

type Walked = RouteMatch & { subscribed: boolean };
const strip = ({ subscribed: _s, ...m }: Walked): RouteMatch => m;
const namesEventType = (r: Route) => (r.matchers ?? []).some((m) => m.label === "event_type");

function walk(node: Route, settings: RouteMatch, labels: Labels, subscribed: boolean): Walked[] {
  const out: Walked[] = [];
  for (const [i, child] of (node.routes ?? []).entries()) {
    if (!matchesAll(child.matchers, labels)) continue;
    const inherited: RouteMatch = {
      path: settings.path === "" ? String(i) : `${settings.path}.${i}`,
      receiver: child.receiver ?? settings.receiver,
      groupBy: child.groupBy ?? settings.groupBy,
      groupWaitMs: child.groupWaitMs ?? settings.groupWaitMs,
      groupIntervalMs: child.groupIntervalMs ?? settings.groupIntervalMs,
      repeatIntervalMs: child.repeatIntervalMs ?? settings.repeatIntervalMs,
    };
    out.push(...walk(child, inherited, labels, subscribed || namesEventType(child)));
    if (!child.continue) break;
  }
  return out.length > 0 ? out : [{ ...settings, subscribed }];
}

/** The label values that define an alert's group under this route (`...`: all labels). */
export function groupLabels(groupBy: readonly string[], labels: Labels): Record<string, string> {
  const names = groupBy.includes("...") ? Object.keys(labels) : groupBy;
  const out: Record<string, string> = {};
  for (const name of [...names].sort()) out[name] = labels[name] ?? "";
  return out;
}

export function groupKey(
  match: Pick<RouteMatch, "path" | "receiver">,
  group: Record<string, string>,
): string {
  return `${match.receiver}/${match.path || "root"}/${JSON.stringify(group)}`;
}

export interface ConfigProblem {
  field: string;
  message: string;
}

/** The first thing wrong with a config that its zod schema cannot see, or null. */
export function findConfigProblem(config: RoutingConfig): ConfigProblem | null {
  const names = new Set<string>();
  for (const [i, r] of config.receivers.entries()) {
    if (names.has(r.name))
      return { field: `receivers.${i}.name`, message: `receiver ${r.name} is defined twice` };
    names.add(r.name);
  }
  const routeProblem = checkRoute(config.route, "route", names);
  if (routeProblem) return routeProblem;
  for (const [i, rule] of config.inhibitRules.entries()) {
    for (const [side, list] of [
      ["sourceMatchers", rule.sourceMatchers],
      ["targetMatchers", rule.targetMatchers],
    ] as const) {
      const bad = badRegex(list, `inhibitRules.${i}.${side}`);
      if (bad) return bad;
    }
  }
  return null;
}

function checkRoute(route: Route, at: string, receivers: ReadonlySet<string>): ConfigProblem | null {
  if (route.receiver !== undefined && !receivers.has(route.receiver)) {
    return { field: `${at}.receiver`, message: `no receiver named ${route.receiver}` };
  }
  const bad = badRegex(route.matchers ?? [], `${at}.matchers`);
  if (bad) return bad;
  for (const [i, child] of (route.routes ?? []).entries()) {
    const p = checkRoute(child, `${at}.routes.${i}`, receivers);
    if (p) return p;
  }
  return null;
}

function badRegex(matchers: readonly Matcher[], at: string): ConfigProblem | null {
  for (const [i, m] of matchers.entries()) {
    if (m.op !== "=~" && m.op !== "!~") continue;
    try {
      compileRegex(m.value);
    } catch (err) {
      return {
        field: `${at}.${i}.value`,
        message: `not a valid regular expression: ${(err as Error).message}`,
      };
    }
  }
  return null;
}

/** Secret fields of each receiver type. */
const SECRET_FIELDS: Record<Receiver["type"], readonly string[]> = {
  slack: ["webhookUrl"],
  pagerduty: ["routingKey"],
  email: ["smtp.password"],
  webhook: ["url", "signingSecret"],
};

export const secretFieldsOf = (type: Receiver["type"]) => SECRET_FIELDS[type];

export function getPath(o: unknown, path: string): unknown {
  return path
    .split(".")
    .reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as never)[k] : undefined), o);
}
export function setPath(o: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split(".");
  let cur: Record<string, unknown> = o;
  for (const k of keys.slice(0, -1)) {
    if (!cur[k] || typeof cur[k] !== "object") return;
    cur = cur[k] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1]!] = value;
}

/** A copy with every secret replaced by REDACTED (for API responses). */
export function redactReceiver(r: Receiver): Receiver {
  const copy = structuredClone(r) as Record<string, unknown>;
  for (const f of SECRET_FIELDS[r.type]) if (getPath(copy, f) !== undefined) setPath(copy, f, REDACTED);
  return copy as Receiver;
}

export const redactConfig = (c: RoutingConfig): RoutingConfig => ({
  ...c,
  receivers: c.receivers.map(redactReceiver),
});

/**
 * A config sent back after reading it carries REDACTED where secrets were: those keep the stored
 * value of the receiver with the same name and type. Returns the field of a REDACTED value that
 * has nothing to keep (a new receiver must give its secrets).
 */
export function restoreSecrets(
  next: RoutingConfig,
  previous: RoutingConfig | null,
): { config: RoutingConfig } | { problem: ConfigProblem } {
  const before = new Map((previous?.receivers ?? []).map((r) => [r.name, r]));
  const receivers: Receiver[] = [];
  for (const [i, r] of next.receivers.entries()) {
    const copy = structuredClone(r) as Record<string, unknown>;
    for (const f of SECRET_FIELDS[r.type]) {
      if (getPath(copy, f) !== REDACTED) continue;
      const old = before.get(r.name);
      const kept = old && old.type === r.type ? getPath(old, f) : undefined;
      if (kept === undefined) {
        return {
          problem: {
            field: `receivers.${i}.${f}`,
            message: `${f} is ${REDACTED} but no stored value exists`,
          },
        };
      }
      setPath(copy, f, kept);
    }
    receivers.push(copy as Receiver);
  }
  return { config: { ...next, receivers } };
}
