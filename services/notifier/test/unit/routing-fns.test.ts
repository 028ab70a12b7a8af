import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  findConfigProblem,
  groupKey,
  groupLabels,
  matches,
  matchRoutes,
  mayRouteEventType,
  noticeWanted,
  redactConfig,
  restoreSecrets,
} from "../../src/routing/routing-fns.js";
import { REDACTED, type Route, type RoutingConfig } from "../../src/routing/routing-types.js";

const tree: Route = {
  receiver: "default",
  groupBy: ["namespace"],
  routes: [
    {
      matchers: [{ label: "severity", op: "=", value: "critical" }],
      receiver: "pager",
      continue: true,
      groupWaitMs: 0,
    },
    {
      matchers: [{ label: "environment", op: "=~", value: "prod.*" }],
      receiver: "prod-slack",
      routes: [{ matchers: [{ label: "namespace", op: "!=", value: "payments" }], receiver: "prod-other" }],
    },
    { matchers: [{ label: "environment", op: "!~", value: "prod.*" }], receiver: "dev-slack" },
    { matchers: [{ label: "event_type", op: "=", value: "config.changed" }], receiver: "changes" },
  ],
};

describe("matchers", () => {
  it("implements = != =~ !~ with anchored regexes, a missing label being empty", () => {
    const l = { a: "production", b: "" };
    expect(matches({ label: "a", op: "=", value: "production" }, l)).toBe(true);
    expect(matches({ label: "a", op: "!=", value: "production" }, l)).toBe(false);
    expect(matches({ label: "a", op: "=~", value: "prod" }, l)).toBe(false);
    expect(matches({ label: "a", op: "=~", value: "prod.*" }, l)).toBe(true);
    expect(matches({ label: "a", op: "!~", value: "dev|staging" }, l)).toBe(true);
    expect(matches({ label: "missing", op: "=", value: "" }, l)).toBe(true);
    expect(matches({ label: "missing", op: "!=", value: "" }, l)).toBe(false);
  });

  it("!= is the negation of = and !~ of =~ for any label value", () => {
    fc.assert(
      fc.property(fc.string(), fc.stringMatching(/^[a-z]{0,5}$/), (value, pattern) => {
        const l = { x: value };
        expect(matches({ label: "x", op: "!=", value: pattern }, l)).toBe(
          !matches({ label: "x", op: "=", value: pattern }, l),
        );
        expect(matches({ label: "x", op: "!~", value: pattern }, l)).toBe(
          !matches({ label: "x", op: "=~", value: pattern }, l),
        );
      }),
    );
  });
});

describe("matchRoutes", () => {
  it("takes the first matching child, goes on past it with continue, and inherits settings", () => {
    const m = matchRoutes(tree, { severity: "critical", environment: "production", namespace: "payments" });
    expect(m.map((x) => x.receiver)).toEqual(["pager", "prod-slack"]);
    expect(m[0]).toMatchObject({ path: "0", groupWaitMs: 0, groupBy: ["namespace"] });
    expect(m[1]).toMatchObject({ path: "1", groupWaitMs: 30_000 });
  });

  it("descends into nested routes and stops at the first match without continue", () => {
    const m = matchRoutes(tree, { severity: "warning", environment: "production", namespace: "orders" });
    expect(m.map((x) => [x.receiver, x.path])).toEqual([["prod-other", "1.0"]]);
  });

  it("falls back to the node itself when no child matches", () => {
    expect(
      matchRoutes(
        { receiver: "default", routes: [{ matchers: [{ label: "x", op: "=", value: "1" }], receiver: "r" }] },
        {},
      ),
    ).toEqual([expect.objectContaining({ receiver: "default", path: "" })]);
  });

  it("wants a notice only when some route subscribes to it", () => {
    const labels = { event_type: "config.changed", namespace: "shop" };
    expect(noticeWanted(undefined, labels)).toBe(false);
    expect(noticeWanted({ receiver: "catch-all" }, labels)).toBe(false);
    const subscribed: Route = {
      receiver: "catch-all",
      routes: [{ matchers: [{ label: "event_type", op: "=", value: "config.changed" }], receiver: "ops" }],
    };
    expect(noticeWanted(subscribed, labels)).toBe(true);
    expect(noticeWanted(subscribed, { ...labels, event_type: "pipeline" })).toBe(false);
  });

  it("says whether any route could take notices of an event type, whatever the other labels", () => {
    const eventType = (op: "=" | "!=" | "=~" | "!~", value: string) => ({ label: "event_type", op, value });
    const under = (...routes: Route[]): Route => ({ receiver: "catch-all", routes });
    expect(mayRouteEventType(undefined, "config.changed")).toBe(false);
    expect(mayRouteEventType({ receiver: "catch-all" }, "config.changed")).toBe(false);
    // A route for one namespace's changes: other labels are unknown before an event, so they may match.
    const shop = under({
      matchers: [eventType("=", "config.changed"), { label: "namespace", op: "=", value: "shop" }],
      receiver: "ops",
    });
    expect(mayRouteEventType(shop, "config.changed")).toBe(true);
    expect(mayRouteEventType(shop, "pipeline.step-failed")).toBe(false);
    expect(mayRouteEventType(under({ matchers: [eventType("=~", "config\\..*")] }), "config.changed")).toBe(
      true,
    );
    expect(mayRouteEventType(under({ matchers: [eventType("!=", "job")] }), "config.changed")).toBe(true);
    expect(mayRouteEventType(under({ matchers: [eventType("!~", "config.*")] }), "config.changed")).toBe(
      false,
    );
    // Subscribed above, narrowed below: every event_type matcher on the way down must take it.
    const jobsThenChanges = under({
      matchers: [eventType("=", "job")],
      routes: [{ matchers: [eventType("=", "config.changed")], receiver: "ops" }],
    });
    expect(mayRouteEventType(jobsThenChanges, "config.changed")).toBe(false);
    // A root that names event_type subscribes its whole tree, as matchRoutes has it.
    expect(mayRouteEventType({ receiver: "all", matchers: [eventType("=", "job")] }, "config.changed")).toBe(
      true,
    );
    // Agrees with noticeWanted wherever noticeWanted says yes for some labels.
    for (const root of [shop, jobsThenChanges]) {
      if (noticeWanted(root, { event_type: "config.changed", namespace: "shop" }))
        expect(mayRouteEventType(root, "config.changed")).toBe(true);
    }
  });

  it("routes notices only where a route names event_type", () => {
    expect(
      matchRoutes(
        tree,
        { event_type: "config.changed", environment: "production" },
        { subscribedOnly: true },
      ),
    ).toEqual([]);
    const dev = matchRoutes(
      tree,
      { event_type: "config.changed", environment: "dev" },
      { subscribedOnly: true },
    );
    expect(dev).toEqual([]);
    const sub = matchRoutes(
      {
        receiver: "default",
        routes: [
          { matchers: [{ label: "event_type", op: "=", value: "config.changed" }], receiver: "changes" },
        ],
      },
      { event_type: "config.changed" },
      { subscribedOnly: true },
    );
    expect(sub.map((x) => x.receiver)).toEqual(["changes"]);
  });

  it("sends nothing for alerts no route takes when the root has no receiver", () => {
    expect(
      matchRoutes(
        { routes: [{ matchers: [{ label: "x", op: "=", value: "1" }], receiver: "r" }] },
        { x: "2" },
      ),
    ).toEqual([]);
  });

  it("always yields at least one receiver for any labels (the root catches everything)", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom("severity", "environment", "namespace"), fc.string({ maxLength: 12 })),
        (labels) => {
          expect(matchRoutes(tree, labels).length).toBeGreaterThan(0);
        },
      ),
    );
  });
});

describe("groups", () => {
  it("keys groups by route, receiver and the group_by label values", () => {
    const a = groupLabels(["namespace"], { namespace: "x", instance: "1" });
    const b = groupLabels(["namespace"], { namespace: "x", instance: "2" });
    expect(a).toEqual({ namespace: "x" });
    expect(groupKey({ path: "1", receiver: "r" }, a)).toBe(groupKey({ path: "1", receiver: "r" }, b));
    expect(groupKey({ path: "1", receiver: "r" }, a)).not.toBe(groupKey({ path: "2", receiver: "r" }, a));
    expect(groupLabels(["..."], { b: "2", a: "1" })).toEqual({ a: "1", b: "2" });
  });
});

const config: RoutingConfig = {
  route: {
    receiver: "slack",
    routes: [{ receiver: "pd", matchers: [{ label: "severity", op: "=", value: "critical" }] }],
  },
  receivers: [
    {
      name: "slack",
      type: "slack",
      webhookUrl: "https://hooks.slack.com/services/T/B/secret",
      sendResolved: true,
    },
    {
      name: "pd",
      type: "pagerduty",
      routingKey: "R0UTINGKEY",
      url: "https://events.pagerduty.com/v2/enqueue",
      sendResolved: true,
    },
  ],
  inhibitRules: [],
};

describe("config validation", () => {
  it("refuses a route to a missing receiver, naming the field", () => {
    const bad = structuredClone(config);
    bad.route.routes![0]!.receiver = "nobody";
    expect(findConfigProblem(bad)).toEqual({
      field: "route.routes.0.receiver",
      message: "no receiver named nobody",
    });
  });
  it("refuses duplicate receivers and bad regexes", () => {
    expect(
      findConfigProblem({ ...config, receivers: [...config.receivers, config.receivers[0]!] })?.field,
    ).toBe("receivers.2.name");
    const re = structuredClone(config);
    re.route.routes![0]!.matchers = [{ label: "x", op: "=~", value: "(" }];
    expect(findConfigProblem(re)?.field).toBe("route.routes.0.matchers.0.value");
    expect(findConfigProblem(config)).toBeNull();
  });
});

describe("secrets", () => {
  it("redacts every secret and restores them from the stored version by receiver name", () => {
    const red = redactConfig(config);
    expect(JSON.stringify(red)).not.toContain("secret");
    expect(JSON.stringify(red)).not.toContain("R0UTINGKEY");
    const back = restoreSecrets(red, config);
    expect(back).toEqual({ config });
  });
  it("refuses a redacted secret with nothing stored to keep", () => {
    const red = redactConfig(config);
    const renamed = { ...red, receivers: [{ ...red.receivers[0]!, name: "new-one" }, red.receivers[1]!] };
    expect(restoreSecrets(renamed, config)).toEqual({
      problem: {
        field: "receivers.0.webhookUrl",
        message: `webhookUrl is ${REDACTED} but no stored value exists`,
      },
    });
  });
});
