import { api, segment } from "../api.js";
import { field, h, table, when } from "../dom.js";
import { actionForm, takeFlash } from "../forms.js";
import { render } from "../app.js";

/**
 * Webhook endpoints (registered here too); the one chosen can be changed, disabled, given a new secret or deleted,
 * and its deliveries are listed, each of which can be sent again.
 */
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
      actionForm({ class: "card" }, [...endpointFields({}), h("button", { type: "submit" }, "Register endpoint")], {
        action: form => api("webhooks", { method: "POST", body: endpointBody(form) }),
        // The API shows a secret only here and when it is rotated: the operator copies it now.
        success: answer => `Endpoint registered. Its signing secret, shown this once: ${answer.secret}`,
        done: () => render({ keepFocus: true }),
      })),
    chosen ? manage(chosen) : null,
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

/** What an endpoint receives and where: the register form's fields, and the change form's, filled with the endpoint's. */
function endpointFields(endpoint) {
  return [
    field("Address", h("input", { name: "url", type: "url", required: true, maxlength: 2000, value: endpoint.url }), "An https address that answers 2xx."),
    field("Event types", h("input", { name: "eventTypes", value: endpoint.eventTypes?.join(", ") }),
      "Comma-separated, such as usage.threshold.crossed; empty for all of them."),
    field("Organisation", h("input", { name: "orgId", maxlength: 64, value: endpoint.orgId }), "Only this organisation's events; empty for every organisation's."),
    field("Description", h("input", { name: "description", maxlength: 500, value: endpoint.description })),
  ];
}

/** The API's body for those fields: an empty organisation or description is none. */
function endpointBody(form) {
  return {
    url: form.get("url"),
    eventTypes: String(form.get("eventTypes")).split(",").map(t => t.trim()).filter(Boolean),
    orgId: form.get("orgId") || null,
    description: form.get("description") || null,
  };
}

/** Change, disable or enable, rotate the secret of, or delete the chosen endpoint. */
function manage(endpoint) {
  const path = `webhooks/${segment(endpoint.id)}`;
  const rerender = () => render({ keepFocus: true });
  return h("section", { "aria-labelledby": "manage" },
    h("h2", { id: "manage" }, `Manage ${endpoint.url}`),
    actionForm({ class: "card", "aria-label": "Change this endpoint" }, [...endpointFields(endpoint), h("button", { type: "submit" }, "Save changes")], {
      action: form => api(path, { method: "PATCH", body: endpointBody(form) }),
      success: "Endpoint changed.",
      done: rerender,
    }),
    h("div", { class: "actions" },
      actionForm({ class: "inline" }, [h("button", { type: "submit" }, endpoint.enabled ? "Disable endpoint" : "Enable endpoint")], {
        action: () => api(path, { method: "PATCH", body: { enabled: !endpoint.enabled } }),
        // A disabled endpoint is given no delivery, and the events of that time are not sent to it later.
        success: endpoint.enabled ? "Endpoint disabled: no event is sent to it until it is enabled again." : "Endpoint enabled.",
        done: rerender,
      }),
      actionForm({ class: "inline" }, [h("button", { type: "submit" }, "Rotate signing secret")], {
        action: () => api(`${path}/rotate-secret`, { method: "POST" }),
        success: answer => `Deliveries are signed with a new secret from now on. It is shown this once: ${answer.secret}`,
        done: rerender,
      }),
      actionForm({ class: "inline" }, [
        h("label", {}, h("input", { type: "checkbox", name: "confirm", required: true }), " I mean to delete this endpoint"),
        h("button", { type: "submit", class: "danger" }, "Delete endpoint"),
      ], {
        action: () => api(path, { method: "DELETE" }),
        success: `The endpoint ${endpoint.url} is deleted.`,
        done: () => navigateAfterDelete(),
      })));
}

/** Back to the list once the endpoint shown is gone. */
async function navigateAfterDelete() {
  if (location.hash === "#/webhooks") await render({ keepFocus: true });
  else location.hash = "#/webhooks";
}
