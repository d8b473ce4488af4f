// Elements built from data, never from HTML strings: what an organisation named itself cannot become markup.

/** An element with attributes (`on…` are listeners; `false`/`null` leave one out) and children (strings become text). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  setAttributes(element, attributes);
  element.append(...nodes(children));
  return element;
}

/** The same for SVG, whose elements live in their own namespace. */
export function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS("http://www.w3.org/2000/svg", tag);
  setAttributes(element, attributes);
  element.append(...nodes(children));
  return element;
}

function setAttributes(element, attributes) {
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
}

function nodes(children) {
  return children.flat(Infinity).filter(c => c !== null && c !== undefined && c !== false).map(c => c instanceof Node ? c : document.createTextNode(String(c)));
}

/** A table with a caption, a header row and rows of cells (strings or nodes), scrolling sideways when it is wider than the page. */
export function table(caption, headers, rows) {
  return h("div", { class: "scroll" }, h("table", {},
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, headers.map(header => h("th", { scope: "col" }, header)))),
    h("tbody", {}, rows.map(cells => h("tr", {}, cells.map((cell, index) => index === 0 ? h("th", { scope: "row" }, cell) : h("td", {}, cell)))))));
}

/** A labelled form control: the label names it, a hint (if any) describes it. */
export function field(label, control, hint) {
  const id = control.id || (control.id = `field-${++fieldCount}`);
  const hintId = hint ? `${id}-hint` : undefined;
  if (hintId) control.setAttribute("aria-describedby", hintId);
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hint ? h("p", { class: "hint", id: hintId }, hint) : null);
}

let fieldCount = 0;

/** A number as people read it here: 12,345. */
export const count = value => value === null || value === undefined ? "—" : Number(value).toLocaleString("en");

/** A moment in UTC, to the minute: 2026-12-02 21:05 UTC. */
export const when = value => value ? `${new Date(value).toISOString().slice(0, 16).replace("T", " ")} UTC` : "—";

/** How a limit reads: unlimited, on/off for a flag, else the number. */
export function limitText(limit) {
  if (limit.kind === "boolean") return limit.enabled ? "on" : "off";
  return limit.limit === null ? "unlimited" : count(limit.limit);
}

/**
 * A usage bar: a native meter (its colour turns at 80% of the limit), labelled with the feature and the numbers,
 * or a plain text for what has no bar (a flag, no limit).
 */
export function usageBar(feature, limit) {
  if (limit.kind === "boolean") return h("span", { class: "flag" }, `${feature}: ${limit.enabled ? "on" : "off"}`);
  const text = `${feature}: ${count(limit.used)} of ${limitText(limit)}${limit.reserved ? `, ${count(limit.reserved)} held` : ""}`;
  if (limit.limit === null || limit.limit === 0) return h("span", { class: "usage" }, text);
  const taken = limit.used + limit.reserved;
  return h("span", { class: "usage" },
    h("meter", { min: 0, max: limit.limit, value: Math.min(taken, limit.limit), low: limit.limit * 0.8, high: limit.limit * 0.99,
      optimum: 0, "aria-label": text, "data-feature": feature }),
    h("span", { class: "usage-text" }, text));
}
