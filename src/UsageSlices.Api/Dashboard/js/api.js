// The service's own API, called with the signed-in admin token. The token lives in this tab's sessionStorage and goes
// only into Authorization headers: never into a URL, so never into a server's or a proxy's log.

const tokenKey = "usage-slices.admin-token";

/** Thrown when there is no token, or the service refused it: the dashboard goes back to its sign-in. */
export class SignedOut extends Error {}

/** The service answered with a problem (RFC 9457): its status, title, detail and the fields' errors. */
export class ApiProblem extends Error {
  constructor(status, problem) {
    super(problem?.detail ?? problem?.title ?? `The service answered ${status}.`);
    this.status = status;
    this.problem = problem ?? {};
  }

  /** Every message the problem carries: each field's errors, else its detail or title. */
  get messages() {
    const errors = Object.entries(this.problem.errors ?? {}).flatMap(([name, messages]) => messages.map(m => `${name}: ${m}`));
    return errors.length > 0 ? errors : [this.message];
  }
}

export const session = {
  get token() { return sessionStorage.getItem(tokenKey); },
  signIn(token) { sessionStorage.setItem(tokenKey, token); },
  signOut() { sessionStorage.removeItem(tokenKey); },
  /** When the token expires (its `exp`), or undefined when it cannot be read. */
  get expiresAt() {
    try {
      const payload = JSON.parse(atob(this.token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
      return typeof payload.exp === "number" ? new Date(payload.exp * 1000) : undefined;
    } catch {
      return undefined;
    }
  },
};

/** One call to `/api/v1/{path}`: the JSON answer, `null` for a 204; an `ApiProblem` or `SignedOut` otherwise. */
export async function api(path, { method = "GET", body } = {}) {
  const token = session.token;
  if (!token) throw new SignedOut("Sign in with an admin token.");
  const response = await fetch(`/api/v1/${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      accept: "application/json",
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) {
    session.signOut();
    throw new SignedOut("Your token has expired or was refused. Sign in again.");
  }
  const answer = response.status === 204 || !/json/.test(response.headers.get("content-type") ?? "") ? null : await response.json();
  if (!response.ok) throw new ApiProblem(response.status, answer);
  return answer;
}

/** The path segment of an id, escaped. */
export const segment = encodeURIComponent;
