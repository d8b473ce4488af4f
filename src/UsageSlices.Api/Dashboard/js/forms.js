import { ApiProblem, SignedOut } from "./api.js";
import { h } from "./dom.js";

let flash;

/** What the last action said, shown once at the top of the page it re-rendered. */
export function takeFlash() {
  const message = flash;
  flash = undefined;
  return message ? h("p", { role: "status", class: "flash", tabindex: -1 }, message) : null;
}

/**
 * A form that calls the API on submit: while it runs its button is disabled; on success `done` re-renders the
 * page with `success` as its message; a problem's messages are shown in the form (each field's, from the API).
 */
export function actionForm(attributes, children, { action, success, done }) {
  const errors = h("div", { class: "errors", role: "alert" });
  const form = h("form", {
    ...attributes,
    onsubmit: async event => {
      event.preventDefault();
      // The submitter may sit outside the form (the tiers' matrix: its buttons name their form by its id).
      const button = event.submitter ?? form.querySelector("button[type=submit]");
      button.disabled = true;
      errors.replaceChildren();
      try {
        const answer = await action(new FormData(form));
        flash = typeof success === "function" ? success(answer) : success;
        await done();
        document.querySelector(".flash")?.focus();
      } catch (error) {
        if (error instanceof SignedOut) throw error;
        const messages = error instanceof ApiProblem ? error.messages : [String(error.message ?? error)];
        errors.replaceChildren(h("p", {}, "The service refused this:"), h("ul", {}, messages.map(m => h("li", {}, m))));
        errors.focus?.();
      } finally {
        button.disabled = false;
      }
    },
  }, children, errors);
  errors.tabIndex = -1;
  return form;
}

/** A fresh idempotency key for one submission of a form. */
export const newKey = () => `dashboard-${crypto.randomUUID()}`;

/** A number when the text is one, else the text as it is, for the API to refuse with its own message. */
export function numberOrText(text) {
  const value = String(text ?? "").trim();
  return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
}
