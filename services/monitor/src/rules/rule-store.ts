import type { Queryable } from "@nexus/kit";
import type { AlertRule } from "./rule-types.js";

export interface RuleVersion {
  version: number;
  rules: AlertRule[];
  author: string;
  comment: string;
  createdAt: Date;
}

interface Row {
  version: number;
  rules: AlertRule[];
  author: string;
  comment: string;
  created_at: Date;
}
const fromRow = (r: Row): RuleVersion => ({
  version: r.version,
  rules: r.rules,
  author: r.author,
  comment: r.comment,
  createdAt: r.created_at,
});

export function createRuleStore() {
  return {
    async latest(q: Queryable): Promise<RuleVersion | null> {
      const res = await q.query<Row>("SELECT * FROM alert_rule_versions ORDER BY version DESC LIMIT 1");
      return res.rows[0] ? fromRow(res.rows[0]) : null;
    },
    async latestVersionNumber(q: Queryable): Promise<number> {
      const res = await q.query<{ v: number | null }>("SELECT max(version) AS v FROM alert_rule_versions");
      return res.rows[0]?.v ?? 0;
    },
    async get(q: Queryable, version: number): Promise<RuleVersion | null> {
      const res = await q.query<Row>("SELECT * FROM alert_rule_versions WHERE version = $1", [version]);
      return res.rows[0] ? fromRow(res.rows[0]) : null;
    },
    async list(q: Queryable, limit: number, before?: number): Promise<RuleVersion[]> {
      const res = await q.query<Row>(
        "SELECT * FROM alert_rule_versions WHERE ($2::int IS NULL OR version < $2) ORDER BY version DESC LIMIT $1",
        [limit, before ?? null],
      );
      return res.rows.map(fromRow);
    },
    /** False when that version number was taken meanwhile (a concurrent save). */
    async insert(q: Queryable, v: Omit<RuleVersion, "createdAt">): Promise<boolean> {
      const res = await q.query(
        `INSERT INTO alert_rule_versions (version, rules, author, comment) VALUES ($1, $2, $3, $4)
         ON CONFLICT (version) DO NOTHING`,
        [v.version, JSON.stringify(v.rules), v.author, v.comment],
      );
      return (res.rowCount ?? 0) === 1;
    },
  };
}
export type RuleStore = ReturnType<typeof createRuleStore>;
