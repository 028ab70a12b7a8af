// The Nexus dashboard: plain JavaScript, no build step (common.js, loaded first, holds what the
// scripts share, the token's keeping among it); live updates come as server-sent events read
// through fetch (EventSource cannot send an Authorization header).

const { TOKEN_KEY, $, el, cell, get: api } = window.nexus;
let controller = null;
let notifierTimer = null;

const badge = (word) => el("span", { class: `badge h-${word}` }, word.replace("_", " "));
const when = (iso) => {
  const d = new Date(iso);
  return el("time", { datetime: iso, title: d.toLocaleString() }, d.toLocaleString());
};

function renderHealth(health) {
  const overall = $("overall");
  overall.replaceChildren(health.status);
  overall.className = `badge h-${health.status}`;
  $("services").replaceChildren(
    ...health.services.map((s) =>
      el(
        "tr",
        { "data-service": s.service },
        cell("Service", s.service),
        cell("Health", badge(s.health), " ", el("span", { class: "help" }, s.reason)),
        cell(
          "Instances",
          el(
            "ul",
            { class: "instances" },
            ...s.instances.map((i) => {
              const down = i.dependencies.filter((d) => d.status === "down").map((d) => d.name);
              return el(
                "li",
                {},
                badge(i.health),
                ` ${i.instanceId} · v${i.version} · up ${Math.round(i.uptimeSeconds / 60)} min`,
                down.length ? ` · down: ${down.join(", ")}` : "",
              );
            }),
          ),
        ),
      ),
    ),
  );
}

function renderAlerts(alerts) {
  const list = $("alerts");
  if (alerts.length === 0) {
    list.replaceChildren(el("li", { class: "none" }, "No alert is firing."));
    list.firstChild.style.borderColor = "var(--ok)";
    list.firstChild.style.background = "transparent";
    return;
  }
  list.replaceChildren(
    ...alerts.map((a) =>
      el(
        "li",
        { class: a.status, "data-fingerprint": a.fingerprint },
        badge(a.status),
        " ",
        badge(a.severity),
        ` ${a.summary} `,
        el("span", { class: "help" }, "since ", when(a.activeSince)),
      ),
    ),
  );
}

function renderNotifier(state) {
  const unavailable = state.notifications === null && state.silences === null;
  $("notify-note").hidden = !unavailable;
  $("notifications").replaceChildren(
    ...(state.notifications ?? []).map((n) =>
      el(
        "li",
        {},
        badge(n.status),
        ` ${n.title} → ${n.receiver} `,
        el("span", { class: "help" }, when(n.updatedAt)),
      ),
    ),
  );
  if (state.notifications?.length === 0)
    $("notifications").replaceChildren(el("li", {}, "Nothing sent yet."));
  $("silences").replaceChildren(
    ...(state.silences ?? []).map((s) =>
      el(
        "li",
        {},
        s.matchers.map((m) => `${m.label}${m.op}${m.value}`).join(", "),
        ` until `,
        when(s.endsAt),
        ` (${s.createdBy}: ${s.comment})`,
      ),
    ),
  );
  if (state.silences?.length === 0) $("silences").replaceChildren(el("li", {}, "No silence in force."));
}

function gridRow(c) {
  const conv = c.convergence;
  return el(
    "tr",
    { "data-key": `${c.namespace}/${c.environment}` },
    cell("Namespace", c.namespace),
    cell("Environment", c.environment),
    cell("Revision", el("span", { class: "revision" }, c.revision)),
    cell("Changed by", el("span", { class: "actor" }, c.actor)),
    cell("When", when(c.changedAt)),
    cell(
      "Convergence",
      conv && conv.revision === c.revision
        ? `${conv.applied} applied, ${conv.stillOlder} behind${conv.rejected ? `, ${conv.rejected} rejected` : ""}${conv.converged ? " ✓" : ""}`
        : "—",
    ),
    cell("Open findings", c.openFindings === null ? "—" : String(c.openFindings)),
  );
}

function renderGrid(state) {
  $("drift-note").hidden = state.driftAvailable;
  $("grid").replaceChildren(...state.grid.map(gridRow));
  window.nexusRevisions?.setGrid(state.grid);
  window.nexusCompare?.setGrid(state.grid);
}

const rowOf = (key) => document.querySelector(`#grid tr[data-key="${CSS.escape(key)}"]`);
const shownRevision = (key) => Number(rowOf(key)?.querySelector(".revision")?.textContent ?? 0);
const cellTimers = new Map();

/** Put a cell in the grid; a cell older than the one shown only brings its convergence and findings. */
function putCell(cell, flash) {
  const key = `${cell.namespace}/${cell.environment}`;
  const old = rowOf(key);
  const shown = shownRevision(key);
  if (old && cell.revision < shown) return;
  const row = gridRow(cell);
  if (old) old.replaceWith(row);
  else $("grid").append(row);
  if (flash) row.classList.add("changed");
}

/** Read one cell again (convergence, findings) soon; several hints for it in a row make one read. */
function refreshCell(namespace, environment, delayMs) {
  const key = `${namespace}/${environment}`;
  clearTimeout(cellTimers.get(key));
  cellTimers.set(
    key,
    setTimeout(async () => {
      cellTimers.delete(key);
      const token = sessionStorage.getItem(TOKEN_KEY);
      if (!token) return;
      try {
        putCell(
          await api(
            `/v1/dashboard/cells/${encodeURIComponent(namespace)}/${encodeURIComponent(environment)}`,
            token,
          ),
          false,
        );
      } catch (err) {
        if (err.status === 401) signOut("Your token is no longer accepted. Sign in again.");
      }
    }, delayMs),
  );
}

/** A config.changed pushed by the server: update (or add) the cell at once. */
function applyHead(head) {
  const key = `${head.namespace}/${head.environment}`;
  putCell({ ...head, convergence: null, openFindings: null }, true);
  $("live").textContent = `${key} is now at revision ${head.revision} (by ${head.actor}).`;
  // Convergence and findings of the new revision come from the drift-detector a little later.
  refreshCell(head.namespace, head.environment, 1_000);
}

async function loadState(token) {
  if (!token) return;
  try {
    const state = await api("/v1/dashboard/state", token);
    $("who").textContent = `Signed in as ${state.user}`;
    renderHealth(state.health);
    renderAlerts(state.alerts);
    renderNotifier(state);
    renderGrid(state);
  } catch (err) {
    if (err.status === 401) signOut("Your token is no longer accepted. Sign in again.");
  }
}

async function stream(token) {
  let delay = 500;
  while (controller && !controller.signal.aborted) {
    try {
      const res = await fetch("/v1/dashboard/events", {
        headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" },
        signal: controller.signal,
      });
      if (res.status === 401) return signOut("Your token is no longer accepted. Sign in again.");
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      $("live").textContent = "Live: updates appear as they happen.";
      delay = 500;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end = buffer.indexOf("\n\n");
        while (end >= 0) {
          handleFrame(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf("\n\n");
        }
      }
    } catch (_err) {
      if (controller?.signal.aborted) return;
    }
    $("live").textContent = "Connection lost; reconnecting…";
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 10_000);
    await loadState(token);
  }
}

function handleFrame(frame) {
  let event = "message";
  let data = "";
  for (const line of frame.split("\n")) {
    if (line.startsWith("event: ")) event = line.slice(7);
    else if (line.startsWith("data: ")) data += line.slice(6);
  }
  if (!data) return;
  const payload = JSON.parse(data);
  if (event === "head") applyHead(payload);
  else if (event === "applied") refreshCell(payload.namespace, payload.environment, 100);
  else if (event === "health") renderHealth(payload);
  else if (event === "pipeline") {
    window.nexusPipelines?.soon();
    window.nexusRollouts?.soon();
  } else if (event === "alerts") {
    renderAlerts(payload);
    // The notifier sends about changed alerts shortly after: read its history again then.
    clearTimeout(notifierTimer);
    notifierTimer = setTimeout(() => void loadState(sessionStorage.getItem(TOKEN_KEY)), 1_500);
  }
}

async function signIn(token) {
  $("login-error").textContent = "";
  try {
    await api("/v1/dashboard/state", token);
  } catch (err) {
    $("login-error").textContent =
      err.status === 401 ? "This token was not accepted." : `Could not sign in: ${err.message}`;
    $("token").focus();
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  $("login").hidden = true;
  $("board").hidden = false;
  $("who").hidden = false;
  $("signout").hidden = false;
  await loadState(token);
  void window.nexusPipelines?.refresh();
  void window.nexusRollouts?.refresh();
  controller = new AbortController();
  void stream(token);
}

function signOut(message = "") {
  sessionStorage.removeItem(TOKEN_KEY);
  controller?.abort();
  controller = null;
  $("board").hidden = true;
  $("who").hidden = true;
  $("signout").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message;
  $("token").value = "";
  $("token").focus();
}

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", (e) => {
    e.preventDefault();
    void signIn($("token").value.trim());
  });
  $("signout").addEventListener("click", () => signOut());
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) void signIn(saved);
});
