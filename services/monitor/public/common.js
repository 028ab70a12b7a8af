// What the dashboard's scripts share, loaded before them: building elements, and calls to the
// monitor with the signed-in token. The token stays in sessionStorage (this tab) and goes as a
// bearer header on every call.

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
  /** Labelled cells: on a phone the table's rows become cards that name each value. */
  const cell = (label, ...content) => el("td", { "data-label": label }, ...content);

  /**
   * A JSON call with the signed-in token (or `token`, before it is saved): its status and body.
   * An error answer throws its message, with the status as `err.status`.
   */
  async function call(method, path, body, token = sessionStorage.getItem(TOKEN_KEY)) {
    const res = await fetch(path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        accept: "application/json",
        ...(body ? { "content-type": "application/json" } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const json = await res.json().catch(() => null);
    if (!res.ok) {
      const err = new Error(json?.error?.message ?? `HTTP ${res.status}`);
      err.status = res.status;
      throw err;
    }
    return { status: res.status, body: json };
  }
  /** The body of a GET (see `call`). */
  const get = async (path, token) => (await call("GET", path, undefined, token)).body;

  window.nexus = { TOKEN_KEY, $, el, cell, call, get };
})();
