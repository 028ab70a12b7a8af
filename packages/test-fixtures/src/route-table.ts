import type { RouteAccess } from "@nexus/kit";

export interface RouteTableOptions {
  /** `app.inject` of the service under test. */
  inject(opts: {
    method: string;
    url: string;
    headers: Record<string, string>;
    payload?: string;
  }): Promise<{ statusCode: number; body: string; headers: Record<string, unknown> }>;
  routes: readonly RouteAccess[];
  /**
   * Values for path parameters, by name; asked per call, so the admin pass (which may delete
   * what it names) can get fresh ones while the refused passes reuse one set.
   */
  samples: (pass: RouteFailure["pass"]) => Promise<Record<string, string>>;
  adminToken: string;
  /** A valid token whose grants cover none of the sampled namespaces. */
  outsiderToken: string;
}

export interface RouteFailure {
  route: string;
  pass: "anonymous" | "outsider" | "admin";
  status: number;
  expected: string;
}

const routeName = (r: RouteAccess) => `${r.method} ${r.url}`;

/**
 * The route-table check every service runs: each non-public route without a token (401), with a
 * token scoped elsewhere (404 where the rule hides existence, else 403; routes open to any token
 * are skipped), and as an admin (never 401/403). Public routes are skipped: some authenticate
 * another way (signed webhooks, an intake token), so each service pins its list of public routes
 * in its own test instead. Returns what failed, empty when all held; a path parameter without a
 * sample is a failure too, so a new route cannot slip through.
 */
export async function checkRouteTable(options: RouteTableOptions): Promise<RouteFailure[]> {
  const failures: RouteFailure[] = [];
  const routes = options.routes.filter((r) => r.method !== "HEAD" && !("public" in r.access));
  const send = async (
    r: RouteAccess,
    pass: RouteFailure["pass"],
    token: string | null,
  ): Promise<{ missing: string } | { status: number }> => {
    const samples = await options.samples(pass);
    let missing: string | undefined;
    const url = r.url.replace(/:(\w+)/g, (_, name: string) => {
      const value = samples[name];
      if (value === undefined) missing = name;
      return encodeURIComponent(value ?? "");
    });
    if (missing) return { missing };
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await options.inject({
      method: r.method,
      url,
      headers,
      ...(r.method === "GET" || r.method === "DELETE" ? {} : { payload: "{}" }),
    });
    return { status: res.statusCode };
  };

  for (const r of routes) {
    const anonymous = await send(r, "anonymous", null);
    if ("missing" in anonymous) {
      failures.push({
        route: routeName(r),
        pass: "anonymous",
        status: 0,
        expected: `a sample for :${anonymous.missing}`,
      });
      continue;
    }
    if (anonymous.status !== 401) {
      failures.push({
        route: routeName(r),
        pass: "anonymous",
        status: anonymous.status,
        expected: "401",
      });
    }
    if ("role" in r.access) {
      const outsider = await send(r, "outsider", options.outsiderToken);
      const want = r.access.scope && r.access.hideExistence ? 404 : 403;
      if ("status" in outsider && outsider.status !== want) {
        failures.push({
          route: routeName(r),
          pass: "outsider",
          status: outsider.status,
          expected: String(want),
        });
      }
    }
    const admin = await send(r, "admin", options.adminToken);
    if ("status" in admin && (admin.status === 401 || admin.status === 403)) {
      failures.push({ route: routeName(r), pass: "admin", status: admin.status, expected: "not 401/403" });
    }
  }
  return failures;
}
