// The dashboard's pipelines view: runs running, awaiting approval or rolling back, with approve
// and reject for approvers. Every call goes to the monitor, which asks the orchestrator with this
// same token; the orchestrator decides (an approver who started the run is refused), and its
// refusal is shown as it said it.

(() => {
  const { $, el, call } = window.nexus;
  let timer = null;

  const say = (text) => {
    $("runs-status").textContent = text;
  };

  function runLine(r) {
    const started = new Date(r.createdAt);
    return el(
      "li",
      { "data-run": r.id, class: r.status },
      el(
        "span",
        { class: `badge h-${r.status === "awaiting-approval" ? "degraded" : "up"}` },
        r.status.replace("-", " "),
      ),
      ` ${r.pipeline}: ${r.namespace} ${r.source} → ${r.target}, step ${r.currentStep + 1}, started by ${r.startedBy} `,
      el("time", { datetime: r.createdAt, class: "help" }, started.toLocaleString()),
      ...(r.mayDecide
        ? [
            " ",
            el(
              "button",
              { type: "button", "data-action": "approve", "data-id": r.id },
              `Approve ${r.pipeline}`,
            ),
            " ",
            el(
              "button",
              { type: "button", "data-action": "reject", "data-id": r.id },
              `Reject ${r.pipeline}`,
            ),
          ]
        : []),
    );
  }

  async function refresh() {
    try {
      const { items } = (await call("GET", "/v1/dashboard/runs")).body;
      $("runs").replaceChildren(
        ...(items.length
          ? items.map(runLine)
          : [el("li", {}, "No pipeline is running or waiting for approval.")]),
      );
      $("runs-note").hidden = true;
    } catch (err) {
      $("runs").replaceChildren();
      $("runs-note").textContent = `Pipeline runs are not available: ${err.message}`;
      $("runs-note").hidden = false;
    }
  }

  /** Many events arrive together (a step ends, the next starts): one read for them all. */
  function soon() {
    clearTimeout(timer);
    timer = setTimeout(() => void refresh(), 200);
  }

  async function decide(action, id) {
    const comment = $("run-comment").value.trim();
    try {
      const run = (await call("POST", `/v1/dashboard/runs/${encodeURIComponent(id)}/${action}`, { comment }))
        .body;
      say(
        `${action === "approve" ? "Approved" : "Rejected"}: ${run.pipeline} (${run.namespace} → ${run.target}).`,
      );
      $("run-comment").value = "";
    } catch (err) {
      say(`The orchestrator refused to ${action}: ${err.message}`);
    }
    await refresh();
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("runs").addEventListener("click", (e) => {
      const button = e.target.closest("button[data-action]");
      if (button) void decide(button.dataset.action, button.dataset.id);
    });
  });

  window.nexusPipelines = { refresh, soon };
})();
