import { api, segment } from "../api.js";
import { barChart } from "../charts.js";
import { count, field, h, limitText, table, usageBar, when } from "../dom.js";
import { actionForm, newKey, numberOrText, takeFlash } from "../forms.js";
import { render } from "../app.js";

/** One organisation: its limits, history and events, and what support does for it (tier, overrides, corrections). */
export async function organisation(orgId, params) {
  const id = segment(orgId);
  const [org, limits, overrides, tiers, events] = await Promise.all([
    api(`organisations/${id}`), api(`usage/${id}/limits`), api(`organisations/${id}/overrides`), api("tiers"),
    api(`usage/${id}/events?limit=20`),
  ]);
  const counted = limits.features.filter(f => f.kind !== "boolean");
  const charted = params.get("feature") ?? counted[0]?.feature;
  const history = charted ? await api(`usage/${id}/history?feature=${segment(charted)}&granularity=day`) : null;
  const done = () => render({ keepFocus: true });

  return [
    h("p", { class: "crumbs" }, h("a", { href: "#/organisations" }, "Organisations")),
    h("h1", { tabindex: -1 }, org.name),
    takeFlash(),
    h("dl", { class: "facts" },
      fact("Id", org.id), fact("Slug", org.slug), fact("Tier", `${limits.tier.name} (${limits.tier.code})`),
      fact("Billing anchor day", org.billingAnchorDay), fact("Registered", when(org.createdAt))),

    h("section", { "aria-labelledby": "limits" },
      h("h2", { id: "limits" }, "Limits"),
      table(`Limits of ${org.name} as of ${when(limits.asOf)}`, ["Feature", "Used", "Reserved", "Remaining", "Limit", "Source", "Usage"],
        limits.features.map(f => [
          f.feature, count(f.used), count(f.reserved), f.kind === "boolean" ? "—" : f.remaining === null ? "unlimited" : count(f.remaining),
          limitText(f), f.source === "override" ? `override${f.overrideExpiresAt ? ` until ${when(f.overrideExpiresAt)}` : ""}` : "tier",
          usageBar(f.feature, f),
        ]))),

    h("div", { class: "columns" },
      h("section", { "aria-labelledby": "assign-tier" },
        h("h2", { id: "assign-tier" }, "Assign a tier"),
        actionForm({ class: "card" }, [
          field("Tier", h("select", { name: "tier" }, tiers.map(t => h("option", { value: t.code, selected: t.code === org.tier }, t.name)))),
          field("Reason", h("input", { name: "reason", maxlength: 500 }), "Kept with the change on the organisation's history."),
          h("button", { type: "submit" }, "Assign tier"),
        ], {
          action: form => api(`usage/${id}/tier`, { method: "PUT", body: { tier: form.get("tier"), reason: form.get("reason") || null } }),
          success: answer => answer.changed ? `Moved to ${answer.tier} from ${answer.previousTier}.` : `Already on ${answer.tier}: nothing changed.`,
          done,
        })),

      h("section", { "aria-labelledby": "grant-override" },
        h("h2", { id: "grant-override" }, "Grant an override"),
        actionForm({ class: "card" }, [
          field("Feature", h("select", { name: "feature" }, limits.features.map(f => h("option", { value: f.feature }, f.feature)))),
          field("Limit", h("input", { name: "limit", inputmode: "numeric" }),
            "A whole number; 'unlimited' for no limit; 'on' or 'off' for a flag."),
          field("Expires at (UTC)", h("input", { name: "expiresAt", type: "datetime-local" }), "Leave empty to keep it until it is revoked."),
          field("Reason", h("input", { name: "reason", maxlength: 500 })),
          h("button", { type: "submit" }, "Grant override"),
        ], {
          action: form => api(`organisations/${id}/overrides/${segment(form.get("feature"))}`, {
            method: "PUT",
            body: { limit: limitValue(form.get("limit")), expiresAt: utc(form.get("expiresAt")), reason: form.get("reason") || null },
          }),
          success: answer => `Override granted: ${answer.feature} limit ${answer.unlimited ? "unlimited" : answer.limit}.`,
          done,
        }))),

    h("section", { "aria-labelledby": "overrides" },
      h("h2", { id: "overrides" }, "Active overrides"),
      overrides.overrides.length === 0 ? h("p", {}, "None: every limit is the tier's.") :
        table(`Overrides of ${org.name}`, ["Feature", "Limit", "Expires", "Reason", "Granted by", "Action"],
          overrides.overrides.map(o => [o.feature, o.unlimited ? "unlimited" : String(o.limit), when(o.expiresAt), o.reason ?? "—", o.grantedBy,
            actionForm({ class: "inline" }, [h("button", { type: "submit", "aria-label": `Revoke the override of ${o.feature}` }, "Revoke")], {
              action: () => api(`organisations/${id}/overrides/${segment(o.feature)}`, { method: "DELETE" }),
              success: `Override of ${o.feature} revoked: the tier's limit applies again.`,
              done,
            })]))),

    h("section", { "aria-labelledby": "correction" },
      h("h2", { id: "correction" }, "Record a correction"),
      actionForm({ class: "card" }, [
        field("Feature", h("select", { name: "feature" }, counted.map(f => h("option", { value: f.feature }, f.feature)))),
        field("Quantity", h("input", { name: "quantity", inputmode: "numeric", required: true }), "Signed: -120 takes 120 off, 5 adds 5."),
        field("Occurred at (UTC)", h("input", { name: "occurredAt", type: "datetime-local" }), "Leave empty for now; the correction counts in that moment's period."),
        field("Reason", h("input", { name: "reason", required: true, maxlength: 500 }), "Required: a ticket, a cause."),
        h("button", { type: "submit" }, "Record correction"),
      ], {
        action: form => api(`usage/${id}/corrections`, {
          method: "POST",
          body: {
            feature: form.get("feature"), quantity: numberOrText(form.get("quantity")), reason: form.get("reason"),
            occurredAt: utc(form.get("occurredAt")) ?? new Date().toISOString(), idempotencyKey: newKey(),
          },
        }),
        success: answer => `Correction recorded: ${answer.feature} is now at ${count(answer.used)}.`,
        done,
      })),

    h("section", { "aria-labelledby": "history" },
      h("h2", { id: "history" }, "History"),
      h("form", {
        class: "search",
        onsubmit: event => {
          event.preventDefault();
          location.hash = `#/organisations/${id}?feature=${segment(new FormData(event.target).get("feature"))}`;
        },
      }, field("Feature", h("select", { name: "feature" }, counted.map(f => h("option", { value: f.feature, selected: f.feature === charted }, f.feature)))),
      h("button", { type: "submit" }, "Show")),
      history ? barChart(`${charted} per day, ${history.from.slice(0, 10)} to ${history.to.slice(0, 10)}`,
        history.buckets.map(b => ({ label: b.start.slice(5, 10), value: b.quantity })), { valueName: "Quantity" }) : null),

    h("section", { "aria-labelledby": "events" },
      h("h2", { id: "events" }, "Recent events"),
      events.events.length === 0 ? h("p", {}, "No event in the current period.") :
        table(`The latest events of ${org.name}`, ["Occurred", "Feature", "Quantity", "Type", "Key or reason"],
          events.events.map(e => [when(e.occurredAt), e.feature, count(e.quantity), e.type, e.reason ?? e.idempotencyKey ?? "—"]))),
  ];
}

const fact = (label, value) => h("div", {}, h("dt", {}, label), h("dd", {}, String(value)));

/** What the limit field says, as the API takes it: a number, null (unlimited), a flag, or the text itself (for the API to refuse). */
function limitValue(text) {
  const value = String(text).trim().toLowerCase();
  if (value === "unlimited") return null;
  if (value === "on" || value === "true") return true;
  if (value === "off" || value === "false") return false;
  return numberOrText(value);
}

/** A datetime-local value read as UTC, or null when empty. */
const utc = value => value ? new Date(`${value}:00Z`).toISOString() : null;
