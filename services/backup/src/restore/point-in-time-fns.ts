/**
 * Pure helpers of a point-in-time restore of one namespace: reading rows of a bundle's COPY text,
 * comparing its timestamps with the requested time, and choosing each layer's content then.
 */

const ESCAPES: Record<string, string> = { b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v", "\\": "\\" };

/** One field of COPY text as its value: `\N` is NULL; backslash escapes (incl. octal, `\x` hex) undone. */
export function unescapeCopyField(field: string): string | null {
  if (field === "\\N") return null;
  if (!field.includes("\\")) return field;
  let out = "";
  for (let i = 0; i < field.length; i++) {
    const ch = field[i]!;
    if (ch !== "\\" || i === field.length - 1) {
      out += ch;
      continue;
    }
    const next = field[++i]!;
    const octal = /^[0-7]{1,3}/.exec(field.slice(i, i + 3));
    const hex = next === "x" ? /^[0-9a-fA-F]{1,2}/.exec(field.slice(i + 1, i + 3)) : null;
    if (octal) {
      out += String.fromCharCode(Number.parseInt(octal[0], 8));
      i += octal[0].length - 1;
    } else if (hex) {
      out += String.fromCharCode(Number.parseInt(hex[0], 16));
      i += hex[0].length;
    } else out += ESCAPES[next] ?? next;
  }
  return out;
}

/** A row of COPY text (without its newline) as raw fields, still escaped. */
export const splitCopyRow = (line: string): string[] => line.split("\t");

/**
 * A timestamptz as COPY prints it (`2026-12-06 21:54:01.123456+00`, any session time zone) in
 * microseconds since the epoch: revisions are compared with the requested time to the microsecond.
 */
export function copyTimestampMicros(text: string): number {
  const m =
    /^(\d{4,})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?$/.exec(
      text,
    );
  if (!m) throw new Error(`"${text}" is not a timestamp with time zone`);
  const [, y, mo, d, h, mi, s, frac, sign, oh, om, os] = m;
  const utcMs = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const offsetSeconds =
    (sign === "-" ? -1 : 1) * (Number(oh) * 3600 + Number(om ?? 0) * 60 + Number(os ?? 0));
  const micros = Number((frac ?? "").padEnd(6, "0"));
  return (utcMs - offsetSeconds * 1000) * 1000 + micros;
}

/** An ISO time (the API's `at`) in microseconds since the epoch, to the millisecond. */
export const isoMicros = (iso: string): number => Date.parse(iso) * 1000;

/** The columns of the registry's revisions a restore reads, by position in the part's COPY text. */
export interface RevisionColumns {
  namespace: number;
  revision: number;
  layer: number;
  content: number;
  createdAt: number;
}

export function revisionColumns(columns: readonly { name: string }[]): RevisionColumns {
  const at = (name: string) => {
    const i = columns.findIndex((c) => c.name === name);
    if (i < 0) throw new Error(`the revisions part has no column ${name}`);
    return i;
  };
  return {
    namespace: at("namespace"),
    revision: at("revision"),
    layer: at("layer"),
    content: at("content"),
    createdAt: at("created_at"),
  };
}

/** What a layer is restored to: the content of the chosen revision, or emptied (no revision by then). */
export interface ChosenLayer {
  layer: string;
  /** The revision of the backup's history the content is from; null: none by then, the layer is emptied. */
  fromRevision: number | null;
  fromCreatedAt: string | null;
  content: Record<string, unknown>;
}

/**
 * Follows one namespace's revisions through a bundle chain (rows in any order; a chain link that
 * resets the namespace drops what came before) and keeps, per layer, only the newest revision
 * created at or before `atMicros` (null: every revision, the backup's point). Memory is one
 * revision per layer, whatever the history's length.
 */
export function createLayerChooser(namespace: string, atMicros: number | null) {
  type Best = { revision: number; createdAt: string; content: string };
  let best = new Map<string, Best | null>();
  let oldest: { micros: number; text: string } | null = null;
  let rows = 0;
  return {
    /** The namespace's earlier rows are gone (a full copy in the chain, or the namespace reset). */
    reset() {
      best = new Map();
      oldest = null;
      rows = 0;
    },
    /** A row of the revisions part; rows of other namespaces are skipped before anything is decoded. */
    offer(fields: string[], cols: RevisionColumns) {
      if (unescapeCopyField(fields[cols.namespace]!) !== namespace) return;
      rows++;
      const layer = unescapeCopyField(fields[cols.layer]!)!;
      const createdAt = unescapeCopyField(fields[cols.createdAt]!)!;
      const micros = copyTimestampMicros(createdAt);
      if (!oldest || micros < oldest.micros) oldest = { micros, text: createdAt };
      const current = best.get(layer) ?? null;
      if (atMicros !== null && micros > atMicros) {
        if (!best.has(layer)) best.set(layer, null);
        return;
      }
      const revision = Number(unescapeCopyField(fields[cols.revision]!));
      if (current && current.revision > revision) return;
      best.set(layer, { revision, createdAt, content: fields[cols.content]! });
    },
    /** How many of the namespace's revisions were read, and the oldest one's time (null: none). */
    summary: () => ({ rows, oldest: oldest ? new Date(oldest.micros / 1000).toISOString() : null }),
    /** Each layer seen in the history, base first, with what it is restored to. */
    chosen(): ChosenLayer[] {
      return [...best.entries()]
        .sort(([a], [b]) => (a === "base" ? -1 : b === "base" ? 1 : a.localeCompare(b)))
        .map(([layer, b]) => ({
          layer,
          fromRevision: b?.revision ?? null,
          fromCreatedAt: b ? new Date(copyTimestampMicros(b.createdAt) / 1000).toISOString() : null,
          content: b ? (JSON.parse(unescapeCopyField(b.content)!) as Record<string, unknown>) : {},
        }));
    },
  };
}

/** The label of the restored revisions (`restore:<label>`): `<backup id>@<ISO time>`. */
export const restoreLabel = (backupId: string, atIso: string) => `${backupId}@${atIso}`;
