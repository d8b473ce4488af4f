// The dashboard's shell: sign-in, the hash router, and one place that turns failures into messages.
import { api, ApiProblem, session, SignedOut } from "./api.js";
import { field, h } from "./dom.js";
import { overview } from "./pages/overview.js";
import { organisations } from "./pages/organisations.js";
import { organisation } from "./pages/organisation.js";
import { tiers } from "./pages/tiers.js";
import { webhooks } from "./pages/webhooks.js";

const main = document.getElementById("main");
const nav = document.querySelector("nav");
let expiryTimer;

/** `#/organisations/acme?x=1` → the page that renders it, with its parameters. */
function route() {
  const [path, query] = location.hash.replace(/^#/, "").split("?");
  const parts = (path || "/").split("/").filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query ?? "");
  if (parts[0] === "organisations" && parts[1]) return () => organisation(parts[1], params);
  if (parts[0] === "organisations") return () => organisations(params);
  if (parts[0] === "tiers") return () => tiers();
  if (parts[0] === "webhooks") return () => webhooks(params);
  return () => overview();
}

let rendering = 0;

/**
 * Renders the current route; the page's heading then takes the focus, so keyboards and screen readers start there.
 * Only the latest navigation's page is shown: one that was still loading when the address changed again is dropped.
 */
export async function render({ keepFocus = false } = {}) {
  if (!session.token) return signIn();
  const mine = ++rendering;
  nav.hidden = false;
  markCurrentLink();
  main.setAttribute("aria-busy", "true");
  let content;
  try {
    content = await route()();
  } catch (error) {
    if (mine !== rendering) return;
    if (error instanceof SignedOut) return signIn(error.message);
    content = [h("h1", { tabindex: -1 }, "Something went wrong"), h("p", { role: "alert", class: "error" },
      error instanceof ApiProblem ? error.messages.join(" ") : String(error))];
  }
  if (mine !== rendering) return;
  // A page is a list of nodes, some of them left out (null: no message to show, say).
  main.replaceChildren(...[content].flat(Infinity).filter(node => node instanceof Node));
  main.removeAttribute("aria-busy");
  if (!keepFocus) main.querySelector("h1")?.focus();
}

function markCurrentLink() {
  const current = `#/${location.hash.replace(/^#\/?/, "").split(/[/?]/)[0]}`;
  for (const link of nav.querySelectorAll("a"))
    if (link.getAttribute("href") === current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
}

/** The sign-in page, with why the user is here when they were sent back to it. */
function signIn(message) {
  // A page still loading must not replace the sign-in.
  rendering++;
  session.signOut();
  clearTimeout(expiryTimer);
  nav.hidden = true;
  const token = h("input", { type: "password", name: "token", autocomplete: "off", required: true, spellcheck: "false" });
  const status = h("p", { role: "alert", class: message ? "error" : "", id: "sign-in-message" }, message ?? "");
  const form = h("form", {
    class: "card",
    onsubmit: async event => {
      event.preventDefault();
      await acceptToken(token.value.trim(), status);
    },
  },
  field("Admin token", token, "A bearer token with the usage:admin scope, or open the link the service's dashboard command prints."),
  h("button", { type: "submit" }, "Sign in"), status);
  main.replaceChildren(h("h1", { tabindex: -1 }, "Sign in"), form);
  main.querySelector("h1").focus();
}

/** Keeps a token once an admin-only call accepts it; schedules the sign-out at its expiry. */
async function acceptToken(token, status) {
  session.signIn(token);
  try {
    await api("usage/stats");
  } catch (error) {
    session.signOut();
    status.className = "error";
    status.textContent = error instanceof SignedOut ? "That token was refused: it is expired, or not signed for this service."
      : error instanceof ApiProblem && error.status === 403 ? "That token is not an admin token (it needs the usage:admin scope)."
        : String(error.message);
    return;
  }
  watchExpiry();
  if (!location.hash.startsWith("#/")) history.replaceState(null, "", `${location.pathname}#/`);
  await render();
}

function watchExpiry() {
  clearTimeout(expiryTimer);
  const expiresAt = session.expiresAt;
  if (!expiresAt) return;
  // Timers hold at most about 24.8 days; a longer token is still refused by the service when it expires.
  const wait = Math.min(expiresAt.getTime() - Date.now(), 2 ** 31 - 1);
  expiryTimer = setTimeout(() => signIn("Your session has expired. Sign in again."), Math.max(0, wait));
}

document.getElementById("sign-out").addEventListener("click", () => {
  signIn("You are signed out.");
  history.replaceState(null, "", location.pathname);
});
window.addEventListener("hashchange", () => render());

// The dashboard command's link carries the token in the fragment, which browsers never send to a server;
// it is taken out of the address at once, so that it is not left in the history either.
const fragment = new URLSearchParams(location.hash.replace(/^#/, ""));
if (fragment.has("token")) {
  const token = fragment.get("token");
  history.replaceState(null, "", location.pathname);
  const status = h("p", { role: "alert" });
  main.replaceChildren(status);
  acceptToken(token, status).then(() => { if (!session.token) signIn(status.textContent); });
} else {
  if (session.token) watchExpiry();
  render();
}
