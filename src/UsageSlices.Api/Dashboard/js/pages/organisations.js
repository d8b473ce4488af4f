import { api, segment } from "../api.js";
import { field, h, usageBar } from "../dom.js";

const pageSize = 20;

/** Organisations found by id, slug or name (and tier), each with a bar per feature of its limits page. */
export async function organisations(params) {
  const search = params.get("search") ?? "";
  const tier = params.get("tier") ?? "";
  const after = params.get("after");
  const query = new URLSearchParams({ limit: String(pageSize) });
  if (search) query.set("search", search);
  if (tier) query.set("tier", tier);
  if (after) query.set("after", after);
  const [page, tiers] = await Promise.all([api(`organisations?${query}`), api("tiers")]);
  const limits = await Promise.all(page.organisations.map(o => api(`usage/${segment(o.id)}/limits`)));

  const searchInput = h("input", { type: "search", name: "search", value: search, maxlength: 200 });
  const tierSelect = h("select", { name: "tier" },
    h("option", { value: "" }, "Any tier"),
    tiers.map(t => h("option", { value: t.code, selected: t.code === tier }, t.name)));
  const form = h("form", {
    class: "search",
    role: "search",
    onsubmit: event => {
      event.preventDefault();
      const next = new URLSearchParams();
      if (searchInput.value.trim()) next.set("search", searchInput.value.trim());
      if (tierSelect.value) next.set("tier", tierSelect.value);
      location.hash = `#/organisations?${next}`;
    },
  }, field("Search by id, slug or name", searchInput), field("Tier", tierSelect), h("button", { type: "submit" }, "Search"));

  const results = page.organisations.length === 0
    ? h("p", { role: "status" }, search || tier ? "No organisation matches." : "No organisation is registered yet.")
    : h("ul", { class: "organisations" }, page.organisations.map((o, index) => h("li", { class: "card" },
      h("h2", {}, h("a", { href: `#/organisations/${segment(o.id)}` }, o.name), " ", h("span", { class: "id" }, o.id)),
      h("p", {}, `Tier ${o.tier} · slug ${o.slug}`),
      h("ul", { class: "bars", "aria-label": `Usage of ${o.name}` },
        limits[index].features.filter(f => f.kind !== "boolean").map(f => h("li", {}, usageBar(f.feature, f)))))));

  const next = page.nextAfter
    ? h("p", {}, h("a", { href: `#/organisations?${new URLSearchParams({ ...(search && { search }), ...(tier && { tier }), after: page.nextAfter })}` }, "Next page"))
    : null;
  return [h("h1", { tabindex: -1 }, "Organisations"), form, results, next];
}
