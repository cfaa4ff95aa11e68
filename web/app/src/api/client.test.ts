import { afterAll, afterEach, beforeEach, vi } from "vitest";

// Node's Request, unlike a browser's, refuses a URL relative to the page
// ("/api/v1/me/password"); the client takes this one when it loads.
vi.hoisted(() => {
  class PageRequest extends Request {
    constructor(input: RequestInfo | URL, init?: RequestInit) {
      super(typeof input === "string" ? new URL(input, window.location.href) : input, init);
    }
  }
  vi.stubGlobal("Request", PageRequest);
});

import { api } from "./client";
import { getAccessToken, setAccessToken } from "./session";

// The network: every request the client sends, with the token it carried,
// answered in turn from a list.
let sent: { url: string; authorization: string | null }[] = [];
function network(...answers: Response[]) {
  sent = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const req = new Request(input, init);
      sent.push({ url: new URL(req.url).pathname, authorization: req.headers.get("Authorization") });
      const next = answers.shift();
      if (!next) throw new Error(`unexpected request to ${req.url}`);
      return next;
    }),
  );
}

const problem = (kind: string, detail: string) => ({ type: `https://tandem.invalid/problems/${kind}`, title: "Unauthorized", status: 401, detail });
const answer = (status: number, body?: unknown) =>
  new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { "Content-Type": status >= 400 ? "application/problem+json" : "application/json" } });
const change = { body: { current_password: "not the one", new_password: "a long and quiet river" } };

describe("authFetch", () => {
  beforeEach(() => setAccessToken("token-1", false));
  afterEach(() => setAccessToken(null, false));
  afterAll(() => vi.unstubAllGlobals());

  it("returns a wrong current password's 401 as it is, after one request and no refresh", async () => {
    const wrong = problem("wrong_password", "The current password is wrong.");
    network(answer(401, wrong));
    const res = await api.PUT("/me/password", change);
    expect(sent).toEqual([{ url: "/api/v1/me/password", authorization: "Bearer token-1" }]);
    expect(res.response.status).toBe(401);
    // The caller still reads the problem document.
    expect(res.error).toEqual(wrong);
    expect(getAccessToken()).toBe("token-1");
  });

  it("returns a wrong TOTP code's 401 as it is too", async () => {
    const wrong = problem("wrong_code", "The code is wrong or was used already.");
    network(answer(401, wrong));
    const res = await api.POST("/me/mfa/totp/confirm", { body: { code: "000000" } });
    expect(sent).toEqual([{ url: "/api/v1/me/mfa/totp/confirm", authorization: "Bearer token-1" }]);
    expect(res.error).toEqual(wrong);
  });

  it("refreshes the session once and retries on any other 401", async () => {
    network(answer(401, problem("unauthenticated", "The access token is missing, invalid or expired.")), answer(200, { access_token: "token-2" }), answer(204));
    const res = await api.PUT("/me/password", change);
    expect(sent).toEqual([
      { url: "/api/v1/me/password", authorization: "Bearer token-1" },
      { url: "/api/v1/auth/browser/refresh", authorization: null },
      { url: "/api/v1/me/password", authorization: "Bearer token-2" },
    ]);
    expect(res.response.status).toBe(204);
    expect(getAccessToken()).toBe("token-2");
  });
});
