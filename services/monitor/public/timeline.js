// The dashboard's trace view, what `nexus trace <namespace> <revision>` prints: one change end to
// end (written, published, learnt, each instance's ack, drift, notifications, pipeline runs), each
// step with how long after the write it happened, and every instance's ack on its own. Opened from
// a revision's "Trace" button in the revisions view, or by naming a namespace and revision here.
// The monitor asks each service with this same token; what one cannot say is listed as missing.

(() => {
  const { $, el, get } = window.nexus;
  const say = (text) => {
    $("trace-status").textContent = text;
  };

  /** The view's own section, added to the board once (the page's HTML stays as it was). */
  function build() {
    const head = (...names) =>
      el("thead", {}, el("tr", {}, ...names.map((n) => el("th", { scope: "col" }, n))));
    return el(
      "section",
      { id: "trace-view", "aria-labelledby": "trace-title" },
      el("h2", { id: "trace-title", tabindex: "-1" }, "Change timeline"),
      el(
        "form",
        { id: "trace-form", class: "picker" },
        el("label", { for: "trace-ns" }, "Namespace to trace"),
        el("input", { id: "trace-ns", type: "text", required: "", maxlength: "63", spellcheck: "false" }),
        el("label", { for: "trace-n" }, "Revision to trace"),
        el("input", { id: "trace-n", type: "number", min: "1", step: "1", required: "" }),
        el("button", { type: "submit" }, "Show timeline"),
      ),
      el("p", { id: "trace-status", class: "live", role: "status", "aria-live": "polite" }),
      el(
        "div",
        { id: "trace-result", hidden: "" },
        el("p", { id: "trace-summary" }),
        el("h3", { class: "sub" }, "Instances"),
        el(
          "table",
          { class: "cards", id: "trace-instances" },
          head("Environment", "Instance", "Ack", "After the write"),
        ),
        el("h3", { class: "sub" }, "Steps"),
        el(
          "table",
          { class: "cards", id: "trace-steps" },
          head("After the write", "Step", "Service", "Environment", "Instance", "What happened"),
        ),
        el("ul", { id: "trace-missing", class: "plain" }),
      ),
    );
  }

  /** `+850 ms`, `+2.4 s`, `+3 min 5 s` after the write (a step before it, a clock apart: `−…`). */
  function after(ms) {
    const sign = ms < 0 ? "−" : "+";
    const a = Math.abs(ms);
    if (a < 1_000) return `${sign}${Math.round(a)} ms`;
    if (a < 60_000) return `${sign}${(a / 1_000).toFixed(1)} s`;
    return `${sign}${Math.floor(a / 60_000)} min ${Math.round((a % 60_000) / 1_000)} s`;
  }

  function render(t) {
    const written = Date.parse(t.steps.find((s) => s.kind === "written")?.at ?? t.steps[0]?.at ?? "");
    const offset = (at) => (Number.isNaN(written) ? "" : after(Date.parse(at) - written));
    // Labelled cells: on a phone each row is a card, each cell named by its column.
    const cell = (label, v) => el("td", { "data-label": label }, v ?? "—");
    const when = (label, at) =>
      el(
        "td",
        { "data-label": label },
        el("time", { datetime: at, title: new Date(at).toLocaleString() }, offset(at)),
      );
    $("trace-summary").textContent =
      `${t.namespace} revision ${t.revision} (layer ${t.layer}) by ${t.author}: ${t.steps.length} steps` +
      (t.traceId ? `, trace ${t.traceId}` : "");
    const acks = t.steps.filter((s) => s.kind === "applied" || s.kind === "rejected");
    $("trace-instances").replaceChildren(
      $("trace-instances").tHead,
      el(
        "tbody",
        {},
        ...(acks.length
          ? acks.map((s) =>
              el(
                "tr",
                { "data-instance": s.instance ?? "", class: s.kind },
                cell("Environment", s.environment),
                cell("Instance", s.instance),
                cell("Ack", s.kind),
                when("After the write", s.at),
              ),
            )
          : [el("tr", {}, el("td", { colspan: "4" }, "No instance has acknowledged this revision yet."))]),
      ),
    );
    $("trace-steps").replaceChildren(
      $("trace-steps").tHead,
      el(
        "tbody",
        {},
        ...t.steps.map((s) =>
          el(
            "tr",
            { "data-kind": s.kind },
            when("After the write", s.at),
            cell("Step", s.kind),
            cell("Service", s.service),
            cell("Environment", s.environment),
            cell("Instance", s.instance),
            cell("What happened", s.text),
          ),
        ),
      ),
    );
    $("trace-missing").replaceChildren(
      ...t.missing.map((m) => el("li", { class: "help" }, `Not shown from ${m.service}: ${m.reason}`)),
    );
    $("trace-result").hidden = false;
  }

  async function show(ns, n) {
    $("trace-ns").value = ns;
    $("trace-n").value = String(n);
    say(`Reading the timeline of ${ns} revision ${n}…`);
    try {
      render(
        await get(`/v1/namespaces/${encodeURIComponent(ns)}/revisions/${encodeURIComponent(n)}/timeline`),
      );
      say(`Timeline of ${ns} revision ${n}, in time order.`);
    } catch (err) {
      $("trace-result").hidden = true;
      say(`Could not read the timeline of ${ns} revision ${n}: ${err.message}`);
    }
    $("trace-view").scrollIntoView({ block: "start" });
    $("trace-title").focus({ preventScroll: true });
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("board").append(build());
    $("trace-form").addEventListener("submit", (e) => {
      e.preventDefault();
      void show($("trace-ns").value.trim(), Number($("trace-n").value));
    });
  });

  window.nexusTimeline = { show };
})();
