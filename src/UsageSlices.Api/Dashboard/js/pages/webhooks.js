import { api, segment } from "../api.js";
import { field, h, table, when } from "../dom.js";
import { actionForm, takeFlash } from "../forms.js";
import { render } from "../app.js";

/** Webhook endpoints (registered here too), and the deliveries of the one chosen, each of which can be sent again. */
export async function webhooks(params) {
  const { webhooks: endpoints } = await api("webhooks");
  const chosen = endpoints.find(e => e.id === params.get("id")) ?? endpoints[0];
  const deliveries = chosen ? (await api(`webhooks/${segment(chosen.id)}/deliveries`)).deliveries : [];

  return [
    h("h1", { tabindex: -1 }, "Webhooks"),
    takeFlash(),
    endpoints.length === 0 ? h("p", {}, "No webhook endpoint is registered yet.") :
      table("Webhook endpoints", ["Address", "Events", "Organisation", "State"],
        endpoints.map(e => [
          h("a", { href: `#/webhooks?id=${segment(e.id)}`, "aria-current": e === chosen ? "true" : null }, e.url),
          e.eventTypes.length === 0 ? "all" : e.eventTypes.join(", "), e.orgId ?? "all",
          e.enabled ? "enabled" : `disabled: ${e.disabledReason ?? "by an admin"}`,
        ])),
    h("section", { "aria-labelledby": "register" },
      h("h2", { id: "register" }, "Register an endpoint"),
      actionForm({ class: "card" }, [
        field("Address", h("input", { name: "url", type: "url", required: true, maxlength: 2000 }), "An https address that answers 2xx."),
        field("Event types", h("input", { name: "eventTypes" }), "Comma-separated, such as usage.threshold.crossed; empty for all of them."),
        field("Organisation", h("input", { name: "orgId", maxlength: 64 }), "Only this organisation's events; empty for every organisation's."),
        field("Description", h("input", { name: "description", maxlength: 500 })),
        h("button", { type: "submit" }, "Register endpoint"),
      ], {
        action: form => api("webhooks", {
          method: "POST",
          body: {
            url: form.get("url"),
            eventTypes: String(form.get("eventTypes")).split(",").map(t => t.trim()).filter(Boolean),
            orgId: form.get("orgId") || null,
            description: form.get("description") || null,
          },
        }),
        // The API shows a secret only here and when it is rotated: the operator copies it now.
        success: answer => `Endpoint registered. Its signing secret, shown this once: ${answer.secret}`,
        done: () => render({ keepFocus: true }),
      })),
    chosen ? h("section", { "aria-labelledby": "deliveries" },
      h("h2", { id: "deliveries" }, `Deliveries to ${chosen.url}`),
      actionForm({ class: "inline" }, [h("button", { type: "submit" }, "Send a test event")], {
        action: () => api(`webhooks/${segment(chosen.id)}/test`, { method: "POST" }),
        success: "A webhook.test event is on its way to this endpoint.",
        done: () => render({ keepFocus: true }),
      }),
      deliveries.length === 0 ? h("p", {}, "No delivery yet.") :
        table("The last 100 deliveries, newest first", ["Event", "Status", "Attempts", "Last answer", "Next attempt", "Action"],
          deliveries.map(d => {
            const last = d.attempts.at(-1);
            return [
              `${d.eventType} (${when(d.createdAt)})`, d.status, String(d.attempts.length),
              last ? (last.statusCode ? `${last.statusCode} in ${last.durationMs} ms` : last.error ?? "—") : "—", when(d.nextAttemptAt),
              actionForm({ class: "inline" }, [h("button", { type: "submit", "aria-label": `Retry the ${d.eventType} delivery of ${when(d.createdAt)}` }, "Retry")], {
                action: () => api(`webhooks/${segment(chosen.id)}/deliveries/${segment(d.id)}/retry`, { method: "POST" }),
                success: `The ${d.eventType} delivery is being sent again.`,
                done: () => render({ keepFocus: true }),
              }),
            ];
          }))) : null,
  ];
}
