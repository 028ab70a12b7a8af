// The dashboard's pipelines view: runs running, awaiting approval or rolling back, with approve
// and reject for approvers. Every call goes to the monitor, which asks the orchestrator with this
// same token; the orchestrator decides (an approver who started the run is refused), and its
// refusal is shown as it said it.

(() => {
  const TOKEN_KEY = "nexus.dashboard.token";
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "class") node.className = v;
      else node.setAttribute(k, v);
    }
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  };
  let timer = null;

  async function call(method, path, body) {
    const res = await fetch(path, {
      method,
      headers: {
        authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY)}`,
        accept: "application/json",
        ...(body ? { "content-type": "application/json" } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const json = await res.json().catch(() => null);
    if (!res.ok) throw new Error(json?.error?.message ?? `HTTP ${res.status}`);
    return json;
  }
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
      const { items } = await call("GET", "/v1/dashboard/runs");
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
      const run = await call("POST", `/v1/dashboard/runs/${encodeURIComponent(id)}/${action}`, { comment });
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
