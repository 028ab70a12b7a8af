/** Reading a Prometheus text exposition (what `/metrics` answers) in tests. */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  samples: Sample[];
  /** `# TYPE` of each metric family. */
  types: Map<string, string>;
  /** Samples of `name` whose labels include all of `labels`. */
  find(name: string, labels?: Record<string, string>): Sample[];
  /** The one value of `name` with these labels; throws when there is none or more than one. */
  value(name: string, labels?: Record<string, string>): number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/gy;

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  let m: RegExpExecArray | null = LABEL.exec(text);
  while (m) {
    labels[m[1]!] = m[2]!.replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
    if (LABEL.lastIndex >= text.length) break;
    m = LABEL.exec(text);
  }
  return labels;
}

export function parsePrometheusText(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line.startsWith("# TYPE ")) {
      const [name, type] = line.slice(7).split(" ");
      if (name && type) types.set(name, type);
      continue;
    }
    if (line === "" || line.startsWith("#")) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    const raw = m[4]!;
    const value = raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : Number(raw);
    samples.push({ name: m[1]!, labels: m[3] ? parseLabels(m[3]) : {}, value });
  }
  const find = (name: string, labels: Record<string, string> = {}) =>
    samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return {
    samples,
    types,
    find,
    value(name, labels = {}) {
      const found = find(name, labels);
      if (found.length !== 1) {
        throw new Error(`expected one sample of ${name} ${JSON.stringify(labels)}, found ${found.length}`);
      }
      return found[0]!.value;
    },
  };
}

/**
 * Prometheus naming rules for the `nexus_` families of an exposition: counters end in `_total`,
 * nothing else does, units are base units (`_seconds`, `_bytes`, never `_ms`). Returns the
 * problems, empty when all hold.
 */
export function namingProblems(exposition: Exposition, prefix = "nexus_"): string[] {
  const problems: string[] = [];
  for (const [name, type] of exposition.types) {
    if (!name.startsWith(prefix)) continue;
    if (type === "counter" && !name.endsWith("_total"))
      problems.push(`${name}: a counter must end in _total`);
    if (type !== "counter" && name.endsWith("_total")) problems.push(`${name}: only counters end in _total`);
    if (/_(ms|milliseconds|minutes|hours|kb|mb)(_|$)/.test(name)) problems.push(`${name}: not a base unit`);
  }
  return problems;
}
