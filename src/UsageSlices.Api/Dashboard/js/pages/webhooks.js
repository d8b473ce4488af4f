import { api, segment } from "../api.js";
import { h, table, when } from "../dom.js";
import { actionForm, takeFlash } from "../forms.js";
import { render } from "../app.js";

/** Webhook endpoints, and the deliveries of the one chosen, each of which can be sent again. */
export async function webhooks(params) {
  const { webhooks: endpoints } = await api("webhooks");
  const chosen = endpoints.find(e => e.id === params.get("id")) ?? endpoints[0];
  const deliveries = chosen ? (await api(`webhooks/${segment(chosen.id)}/deliveries`)).deliveries : [];

  return [
    h("h1", { tabindex: -1 }, "Webhooks"),
    takeFlash(),
    endpoints.length === 0 ? h("p", {}, "No webhook endpoint is registered (POST /api/v1/webhooks registers one).") :
      table("Webhook endpoints", ["Address", "Events", "Organisation", "State"],
        endpoints.map(e => [
          h("a", { href: `#/webhooks?id=${segment(e.id)}`, "aria-current": e === chosen ? "true" : null }, e.url),
          e.eventTypes.length === 0 ? "all" : e.eventTypes.join(", "), e.orgId ?? "all",
          e.enabled ? "enabled" : `disabled: ${e.disabledReason ?? "by an admin"}`,
        ])),
    chosen ? h("section", { "aria-labelledby": "deliveries" },
      h("h2", { id: "deliveries" }, `Deliveries to ${chosen.url}`),
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
