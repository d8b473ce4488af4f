import { api, segment } from "../api.js";
import { h } from "../dom.js";
import { actionForm, numberOrText, takeFlash } from "../forms.js";
import { render } from "../app.js";

/**
 * The limits matrix: a row per feature, a column per tier, each cell editable; each tier is saved on its own
 * (its column's cells belong to its form through their `form` attribute), and the API's validation messages are
 * shown under the matrix for that tier.
 */
export async function tiers() {
  const [all, features] = await Promise.all([api("tiers"), api("features")]);
  const formId = tier => `tier-${tier.code}`;
  const cell = (tier, feature) => {
    const label = `${feature.code} limit of ${tier.name}`;
    const value = tier.limits[feature.code];
    if (feature.kind === "boolean")
      return h("select", { name: feature.code, form: formId(tier), "aria-label": label },
        h("option", { value: "off", selected: value !== true }, "off"), h("option", { value: "on", selected: value === true }, "on"));
    return h("input", {
      name: feature.code, form: formId(tier), "aria-label": label, size: 9, inputmode: "numeric",
      value: value === undefined ? "" : value === null ? "unlimited" : String(value),
    });
  };

  const matrix = h("table", { class: "matrix" },
    h("caption", {}, "Each tier's limits: a whole number, 'unlimited', or empty for a feature not in the tier"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Feature"), all.map(t => h("th", { scope: "col" }, t.name)))),
    h("tbody", {},
      h("tr", {}, h("th", { scope: "row" }, "Price a month"), all.map(t => h("td", {},
        h("input", { name: "priceMonthly", form: formId(t), value: String(t.priceMonthly), size: 7, inputmode: "decimal", "aria-label": `Monthly price of ${t.name} (${t.currency})` })))),
      features.map(f => h("tr", {}, h("th", { scope: "row" }, f.code, h("span", { class: "kind" }, ` ${f.kind}`)),
        all.map(t => h("td", {}, cell(t, f)))))),
    h("tfoot", {}, h("tr", {}, h("th", { scope: "row" }, "Save"),
      all.map(t => h("td", {}, h("button", { type: "submit", form: formId(t) }, `Save ${t.name}`))))));

  const forms = all.map(tier => actionForm({ id: formId(tier), class: "tier-form", "aria-label": `${tier.name}'s limits` }, [
    h("h2", { class: "tier-errors-title" }, tier.name),
  ], {
    action: form => api(`tiers/${segment(tier.code)}`, {
      method: "PUT",
      body: {
        name: tier.name, currency: tier.currency, alertThresholds: tier.alertThresholds,
        priceMonthly: numberOrText(form.get("priceMonthly")),
        limits: Object.fromEntries(features.flatMap(f => {
          const text = String(form.get(f.code) ?? "").trim();
          if (f.kind === "boolean") return [[f.code, text === "on"]];
          if (text === "") return [];
          return [[f.code, text.toLowerCase() === "unlimited" ? null : numberOrText(text)]];
        })),
      },
    }),
    success: `${tier.name} saved: its organisations have the new limits now.`,
    done: () => render({ keepFocus: true }),
  }));

  return [h("h1", { tabindex: -1 }, "Tiers"), takeFlash(), h("div", { class: "scroll" }, matrix), h("div", { class: "tier-forms" }, forms)];
}

