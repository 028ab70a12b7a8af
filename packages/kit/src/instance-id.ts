/** `<hostname>-<pid>` as a subject token: lowercase, anything else becomes `-`. */
export function instanceIdOf(host: string, pid: number): string {
  const cleaned = host
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .replace(/^[^a-z0-9]+/, "")
    .slice(0, 80);
  return `${cleaned || "host"}-${pid}`;
}
