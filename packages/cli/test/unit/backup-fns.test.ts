import { describe, expect, it } from "vitest";
import {
  formatBytes,
  progressLine,
  resolveBackupUrl,
  restorePlanText,
} from "../../src/commands/backup-fns.js";

describe("backup CLI functions", () => {
  it("takes the URL from the flag, then the environment, then the config file", () => {
    expect(
      resolveBackupUrl("http://a:4600/", { NEXUS_BACKUP_URL: "http://b" }, { backupUrl: "http://c" }),
    ).toBe("http://a:4600");
    expect(resolveBackupUrl(undefined, { NEXUS_BACKUP_URL: "http://b" }, { backupUrl: "http://c" })).toBe(
      "http://b",
    );
    expect(resolveBackupUrl(undefined, {}, { backupUrl: "http://c" })).toBe("http://c");
    expect(resolveBackupUrl(undefined, {}, null)).toBeNull();
    expect(() => resolveBackupUrl("ftp://x", {}, null)).toThrow(
      "--backup-url must start with http:// or https://",
    );
    expect(() => resolveBackupUrl(undefined, { NEXUS_BACKUP_URL: "http://u:p@x" }, null)).toThrow(
      /NEXUS_BACKUP_URL must not carry credentials/,
    );
  });

  it("says progress in words", () => {
    expect(
      progressLine({
        stage: "copying tables",
        tablesDone: 3,
        tablesTotal: 17,
        rows: 12_345,
        bytes: 1_234_567,
        current: "config_registry.revisions",
      }),
    ).toBe("copying tables, 3/17 tables, 12,345 rows, 1.2 MB, now config_registry.revisions");
    expect(progressLine(undefined)).toBe("working");
    expect(formatBytes(999)).toBe("999 B");
    expect(formatBytes(null)).toBe("-");
  });

  it("shows a restore plan table by table, and what stops it", () => {
    const text = restorePlanText({
      backupId: "bk-20261206T210501Z-full-3f9a2c",
      snapshotAt: "2026-12-06T21:05:01.000Z",
      tables: [
        { table: "config_registry.revisions", rowsNow: 1200, rowsInBackup: 1000 },
        { table: "notifier.alerts", rowsNow: 5, rowsInBackup: 5 },
        { table: "drift_detector.findings", rowsNow: null, rowsInBackup: 2 },
      ],
      problems: ["table drift_detector.findings does not exist"],
    });
    expect(text).toContain("config_registry.revisions: 1,200 → 1,000");
    expect(text).toContain("notifier.alerts: same count");
    expect(text).toContain("drift_detector.findings: missing → 2");
    expect(text).toContain("It cannot run:\n  table drift_detector.findings does not exist");
    expect(text).not.toContain("--apply");
  });
});
