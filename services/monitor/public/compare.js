// The dashboard's environment comparison: pick a namespace and two environments, and read what a
// promotion from one to the other would change, key by key, with where each value comes from
// (layer and revision). The monitor asks the registry with this same token; secrets are *** there.

(() => {
  const { $, el, get } = window.nexus;
  let environments = new Map(); // namespace → environments seen in the grid

  const say = (text) => {
    $("cmp-status").textContent = text;
  };
  const pathText = (p) =>
    p
      .split("/")
      .slice(1)
      .map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"))
      .join(".") || "(whole document)";
  const valueText = (v) => (typeof v === "string" ? v : JSON.stringify(v));
  const sourceText = (s) => (s ? `${s.layer}${s.revision === null ? "" : ` r${s.revision}`}` : "nowhere");

  /** One change in words: the key, both values, and which layer and revision each comes from. */
  function changeLine(c, from, to) {
    const path = pathText(c.path);
    if (c.op === "add")
      return el(
        "li",
        { class: "add" },
        `+ ${path} = ${valueText(c.to)} in ${to} (from ${sourceText(c.toSource)}); absent in ${from}`,
      );
    if (c.op === "remove")
      return el(
        "li",
        { class: "remove" },
        `− ${path} = ${valueText(c.from)} in ${from} (from ${sourceText(c.fromSource)}); absent in ${to}`,
      );
    return el(
      "li",
      { class: "replace" },
      `~ ${path}: ${valueText(c.from)} in ${from} (from ${sourceText(c.fromSource)}) → ${valueText(c.to)} in ${to} (from ${sourceText(c.toSource)})`,
    );
  }

  function fill(select, names) {
    const chosen = select.value;
    select.replaceChildren(...names.map((n) => el("option", { value: n }, n)));
    if (names.includes(chosen)) select.value = chosen;
  }
  function setGrid(grid) {
    environments = new Map();
    for (const c of grid)
      environments.set(c.namespace, [...(environments.get(c.namespace) ?? []), c.environment]);
    fill($("cmp-ns"), [...environments.keys()].sort());
    fillEnvironments();
  }
  function fillEnvironments() {
    const names = [...new Set(environments.get($("cmp-ns").value) ?? [])].sort();
    fill($("cmp-from"), names);
    fill($("cmp-to"), names);
    if ($("cmp-from").value === $("cmp-to").value && names.length > 1)
      $("cmp-to").value = names.find((n) => n !== $("cmp-from").value);
  }

  async function compare(ns, from, to) {
    const url = `/v1/dashboard/namespaces/${encodeURIComponent(ns)}/compare?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
    try {
      const body = await get(url);
      $("compare").replaceChildren(
        ...(body.changes.length
          ? body.changes.map((c) => changeLine(c, from, to))
          : [el("li", {}, `${from} and ${to} resolve to the same configuration.`)]),
      );
      say(
        `${ns}: ${from} (revision ${body.from.revision}) → ${to} (revision ${body.to.revision}): ${body.changes.length} difference${body.changes.length === 1 ? "" : "s"}.`,
      );
    } catch (err) {
      $("compare").replaceChildren();
      say(`Could not compare ${ns} ${from} with ${to}: ${err.message}`);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("cmp-ns").addEventListener("change", fillEnvironments);
    $("compare-form").addEventListener("submit", (e) => {
      e.preventDefault();
      void compare($("cmp-ns").value, $("cmp-from").value, $("cmp-to").value);
    });
  });

  window.nexusCompare = { setGrid };
})();
