import createClient from "openapi-fetch";
import type { paths } from "./schema.gen";
import { ApiError, problemReason, type Problem } from "./problem";
import { getAccessToken, refreshSession } from "./session";

// authFetch adds the in-memory access token; on a 401 it refreshes the
// session once through the cookie and retries, unless the 401 is about a
// secret the request carried (a password, a code) rather than the session.
async function authFetch(input: Request): Promise<Response> {
  const send = (req: Request) => {
    const token = getAccessToken();
    if (token) req.headers.set("Authorization", `Bearer ${token}`);
    return fetch(req);
  };
  const retry = input.clone();
  const first = await send(input);
  if (first.status !== 401 || !getAccessToken() || input.url.includes("/auth/") || (await wrongSecret(first))) return first;
  return (await refreshSession()) ? send(retry) : first;
}

// wrongSecret: the API refused a secret in the request (the current
// password of PUT /me/password: wrong_password; the code confirming TOTP:
// wrong_code), not the access token. A refresh would not help, and the
// retry would count the wrong password twice towards the sign-in
// back-off. It reads a clone, leaving the body to the caller.
async function wrongSecret(res: Response): Promise<boolean> {
  const problem: unknown = await res
    .clone()
    .json()
    .catch(() => null);
  if (typeof problem !== "object" || problem === null || !("type" in problem) || typeof problem.type !== "string") return false;
  const reason = problemReason(problem.type);
  return reason === "wrong_password" || reason === "wrong_code";
}

export const api = createClient<paths>({ baseUrl: "/api/v1", fetch: authFetch });

type Result<T> = { data?: T; error?: unknown; response: Response };

// unwrap returns a call's data, or throws an ApiError with its problem document.
export async function unwrap<T>(call: Promise<Result<T>>): Promise<T> {
  let res: Result<T>;
  try {
    res = await call;
  } catch {
    throw new ApiError(0, { title: "Network error" });
  }
  if (res.response.ok) return res.data as T;
  throw new ApiError(res.response.status, res.error as Partial<Problem> | undefined);
}

// unwrapWithETag also returns the ETag, which a later change sends as If-Match.
export async function unwrapWithETag<T>(call: Promise<Result<T>>): Promise<{ data: T; etag: string }> {
  let res: Result<T>;
  try {
    res = await call;
  } catch {
    throw new ApiError(0, { title: "Network error" });
  }
  if (!res.response.ok) throw new ApiError(res.response.status, res.error as Partial<Problem> | undefined);
  return { data: res.data as T, etag: res.response.headers.get("ETag") ?? "*" };
}
