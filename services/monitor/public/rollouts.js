// The dashboard's rollouts view: wave rollouts, newest first; choosing one shows its waves (the
// current one marked) and each instance's wave and state. Every call goes to the monitor, which
// asks the orchestrator with this same token, so only what the token may view is shown. The view
// builds its own section (after the pipelines one), so the page itself only loads this script.

(() => {
  const { $, el, cell, get } = window.nexus;
  let timer = null;
  let shown = null;

  const selectorWords = (s) =>
    "percent" in s
      ? `${s.percent}% of instances`
      : `instances labelled ${Object.entries(s.labels)
          .map(([k, v]) => `${k}=${v}`)
          .join(", ")}`;
  const progressWords = (r) =>
    r.status === "completed"
      ? `completed, ${r.waveCount} wave(s)`
      : r.status === "aborted"
        ? `aborted after wave ${r.releasedWaves} of ${r.waveCount}`
        : r.releasedWaves === 0
          ? `planned, ${r.waveCount} wave(s)`
          : `wave ${r.releasedWaves} of ${r.waveCount}`;
  const badgeClass = (status) =>
    status === "active" ? "h-degraded" : status === "aborted" ? "h-down" : "h-up";

  function section() {
    const board = $("board");
    const pipelines = $("pipelines-title")?.closest("section");
    const s = el(
      "section",
      { "aria-labelledby": "rollouts-title" },
      el("h2", { id: "rollouts-title" }, "Wave rollouts"),
      el("p", { id: "rollouts-note", class: "help", hidden: "" }),
      el("ul", { id: "rollouts", class: "plain runs" }),
      el(
        "div",
        { id: "rollout-detail", hidden: "" },
        el("h3", { id: "rollout-title", class: "sub" }, "Rollout"),
        el("ol", { id: "rollout-waves", class: "plain", "aria-label": "Waves" }),
        el("p", { id: "rollout-inventory", class: "help", hidden: "" }),
        el(
          "table",
          { class: "cards", "aria-labelledby": "rollout-title" },
          el(
            "thead",
            {},
            el(
              "tr",
              {},
              ...["Instance", "Wave", "State", "May run", "Acknowledged"].map((h) =>
                el("th", { scope: "col" }, h),
              ),
            ),
          ),
          el("tbody", { id: "rollout-members" }),
        ),
      ),
    );
    if (pipelines) pipelines.after(s);
    else board.append(s);
  }

  function rolloutLine(r) {
    return el(
      "li",
      { "data-rollout": r.id },
      el("span", { class: `badge ${badgeClass(r.status)}` }, r.status),
      ` ${r.pipeline}: ${r.namespace} ${r.environment}, revision ${r.holdRevision} → ${r.targetRevision ?? "not written yet"}, ${progressWords(r)} `,
      el("time", { datetime: r.createdAt, class: "help" }, new Date(r.createdAt).toLocaleString()),
      " ",
      el("button", { type: "button", "data-id": r.id }, `Show rollout of ${r.pipeline}`),
    );
  }

  function renderDetail(r) {
    $("rollout-title").textContent =
      `${r.pipeline}: ${r.namespace} ${r.environment}, revision ${r.holdRevision} → ${r.targetRevision ?? "not written yet"} (${progressWords(r)})`;
    $("rollout-waves").replaceChildren(
      ...r.waves.map((w) =>
        el(
          "li",
          {
            "data-wave": w.wave,
            ...(w.current ? { "aria-current": "step", class: "current" } : {}),
          },
          `Wave ${w.wave}: ${selectorWords(w.selector)} — ${w.current ? "current" : w.released ? "released" : "not released"}`,
        ),
      ),
    );
    $("rollout-inventory").textContent = r.inventoryError ? `Instances are unknown: ${r.inventoryError}` : "";
    $("rollout-inventory").hidden = !r.inventoryError;
    $("rollout-members").replaceChildren(
      ...(r.members.length
        ? r.members.map((m) =>
            el(
              "tr",
              { "data-instance": m.instanceId },
              cell("Instance", m.instanceId),
              cell("Wave", m.wave ?? "none yet"),
              cell(
                "State",
                m.state === "rejected" && m.rejectedReason ? `rejected: ${m.rejectedReason}` : m.state,
              ),
              cell("May run", m.targetRevision ?? "-"),
              cell("Acknowledged", m.ackedRevision ?? "-"),
            ),
          )
        : [el("tr", {}, el("td", { colspan: "5" }, "No instance reported."))]),
    );
    $("rollout-detail").hidden = false;
  }

  async function show(id) {
    try {
      renderDetail(await get(`/v1/dashboard/rollouts/${encodeURIComponent(id)}`));
      shown = id;
    } catch (err) {
      $("rollouts-note").textContent = `The rollout is not available: ${err.message}`;
      $("rollouts-note").hidden = false;
    }
  }

  async function refresh() {
    try {
      const { items } = await get("/v1/dashboard/rollouts");
      $("rollouts").replaceChildren(
        ...(items.length ? items.map(rolloutLine) : [el("li", {}, "No wave rollout yet.")]),
      );
      $("rollouts-note").hidden = true;
      if (shown) await show(shown);
    } catch (err) {
      $("rollouts").replaceChildren();
      $("rollouts-note").textContent = `Wave rollouts are not available: ${err.message}`;
      $("rollouts-note").hidden = false;
    }
  }

  /** Pipeline events come in bursts (a wave released, a step waits): one read for them all. */
  function soon() {
    clearTimeout(timer);
    timer = setTimeout(() => void refresh(), 300);
  }

  document.addEventListener("DOMContentLoaded", () => {
    section();
    $("rollouts").addEventListener("click", (e) => {
      const button = e.target.closest("button[data-id]");
      if (button) void show(button.dataset.id);
    });
  });

  window.nexusRollouts = { refresh, soon };
})();
