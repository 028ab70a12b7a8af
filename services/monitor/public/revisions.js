// The dashboard's revision view: pick a namespace and layer, list its revisions, read one's diff,
// and roll back (shown only when the token's grants allow it; the registry decides again). Every
// call goes to the monitor, which asks the registry with this same token.

(() => {
  const { $, el, call } = window.nexus;
  let layers = new Map(); // namespace → environments seen in the grid
  let shown = null; // { ns, layer, newest, mayRollBack }
  let target = null; // the revision a rollback would bring back

  const layerUrl = (ns, layer) =>
    `/v1/dashboard/layers/${encodeURIComponent(ns)}/${encodeURIComponent(layer)}`;
  const say = (text) => {
    $("rev-status").textContent = text;
  };

  /** The pickers follow the grid: its namespaces, and `base` plus their environments. */
  function setGrid(grid) {
    layers = new Map();
    for (const c of grid) layers.set(c.namespace, [...(layers.get(c.namespace) ?? []), c.environment]);
    const ns = $("rev-ns");
    const chosen = ns.value;
    ns.replaceChildren(...[...layers.keys()].sort().map((n) => el("option", { value: n }, n)));
    if (layers.has(chosen)) ns.value = chosen;
    fillLayers();
  }
  function fillLayers() {
    const select = $("rev-layer");
    const chosen = select.value;
    const names = ["base", ...new Set(layers.get($("rev-ns").value) ?? [])];
    select.replaceChildren(...names.map((l) => el("option", { value: l }, l)));
    if (names.includes(chosen)) select.value = chosen;
  }

  /** `/a/b~1c` → `a.b/c`: the path of an RFC 6902 operation in words. */
  const pathText = (p) =>
    p
      .split("/")
      .slice(1)
      .map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"))
      .join(".") || "(whole document)";
  const valueText = (v) => (typeof v === "string" ? v : JSON.stringify(v));
  function diffLine(op) {
    const path = pathText(op.path ?? "");
    if (op.op === "add") return el("li", { class: "add" }, `+ ${path} = ${valueText(op.value)}`);
    if (op.op === "remove") return el("li", { class: "remove" }, `− ${path} removed`);
    if (op.op === "replace") return el("li", { class: "replace" }, `~ ${path} = ${valueText(op.value)}`);
    return el("li", {}, `${op.op} ${path}${op.from ? ` from ${pathText(op.from)}` : ""}`);
  }

  async function showDiff(n) {
    const { ns, layer } = shown;
    try {
      const r = (await call("GET", `${layerUrl(ns, layer)}/revisions/${n}`)).body;
      $("rev-detail-title").textContent =
        `${ns}/${layer} revision ${n} by ${r.author}${r.message ? `: ${r.message}` : ""}`;
      $("rev-diff").replaceChildren(
        ...(r.diff.length ? r.diff.map(diffLine) : [el("li", {}, "No change from the revision before it.")]),
      );
      $("rev-detail").hidden = false;
    } catch (err) {
      say(`Could not read revision ${n}: ${err.message}`);
    }
  }

  function askRollback(n) {
    target = n;
    $("rollback-question").textContent =
      `Roll ${shown.ns}/${shown.layer} back to revision ${n}? Its content becomes a new revision.`;
    $("rollback").hidden = false;
    $("rollback-message").focus();
  }

  async function rollback() {
    const { ns, layer, newest } = shown;
    const message = $("rollback-message").value.trim();
    $("rollback").hidden = true;
    $("rev-detail").hidden = true;
    try {
      const res = await call("POST", `${layerUrl(ns, layer)}/rollback`, {
        revision: target,
        expectedRevision: newest,
        ...(message ? { message } : {}),
      });
      if (res.status === 202) say(`Not yet rolled back: ${res.body.message}`);
      else
        say(
          `Rolled back: ${ns}/${layer} is now at revision ${res.body.revision} (the content of revision ${target}).`,
        );
      await list(ns, layer, false);
    } catch (err) {
      say(`Rollback refused: ${err.message}`);
    }
  }

  async function list(ns, layer, announce = true) {
    try {
      const { items, mayRollBack } = (await call("GET", `${layerUrl(ns, layer)}/revisions?limit=20`)).body;
      shown = { ns, layer, newest: items[0]?.revision, mayRollBack };
      $("revisions").replaceChildren(
        ...items.map((r, i) =>
          el(
            "li",
            { "data-revision": r.revision },
            el("strong", {}, `Revision ${r.revision}`),
            ` by ${r.author} (${r.source}) `,
            el("time", { datetime: r.createdAt }, new Date(r.createdAt).toLocaleString()),
            r.message ? ` — ${r.message} ` : " ",
            el(
              "button",
              { type: "button", "data-action": "diff", "data-n": r.revision },
              `Show diff of ${r.revision}`,
            ),
            " ",
            el(
              "button",
              { type: "button", "data-action": "trace", "data-n": r.revision },
              `Trace ${r.revision}`,
            ),
            ...(mayRollBack && i > 0
              ? [
                  " ",
                  el(
                    "button",
                    { type: "button", "data-action": "rollback", "data-n": r.revision },
                    `Roll back to ${r.revision}`,
                  ),
                ]
              : []),
          ),
        ),
      );
      if (announce)
        say(
          items.length
            ? `${items.length} revisions of ${ns}/${layer}, newest first.`
            : `${ns}/${layer} has no revisions.`,
        );
    } catch (err) {
      $("revisions").replaceChildren();
      say(`Could not list revisions of ${ns}/${layer}: ${err.message}`);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("rev-ns").addEventListener("change", fillLayers);
    $("revisions-form").addEventListener("submit", (e) => {
      e.preventDefault();
      $("rev-detail").hidden = true;
      $("rollback").hidden = true;
      void list($("rev-ns").value, $("rev-layer").value);
    });
    $("revisions").addEventListener("click", (e) => {
      const button = e.target.closest("button[data-action]");
      if (!button) return;
      const n = Number(button.dataset.n);
      if (button.dataset.action === "trace") void window.nexusTimeline?.show(shown.ns, n);
      else if (button.dataset.action === "diff") void showDiff(n);
      else askRollback(n);
    });
    $("rollback").addEventListener("submit", (e) => {
      e.preventDefault();
      void rollback();
    });
    $("rollback-cancel").addEventListener("click", () => {
      $("rollback").hidden = true;
    });
  });

  window.nexusRevisions = { setGrid };
})();
