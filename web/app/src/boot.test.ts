import { vi } from "vitest";

// The refresh and the API answer from these; each call is recorded in order.
let refreshed = true;
let me: unknown = null;
let meInSession = true; // whether the renewed session says who it is

let failing = "";
const calls: string[] = [];
vi.mock("./api/session", () => ({
  resumeSession: async () => {
    calls.push("refresh");
    return refreshed ? { access_token: "a", token_type: "Bearer", expires_in: 900, ...(meInSession ? { me } : {}) } : null;
  },
}));
vi.mock("./api/client", async (importActual) => ({
  ...(await importActual<typeof import("./api/client")>()),
  api: {
    GET: async (path: string) => {
      calls.push(path);
      if (path === failing) return { error: { title: "Internal Server Error" }, response: new Response(null, { status: 500 }) };
      return { data: path === "/me" ? me : { items: [], next_cursor: null }, response: new Response(null, { status: 200 }) };
    },
  },
}));

import { startSession } from "./boot";

describe("startSession", () => {
  beforeEach(() => {
    calls.length = 0;
    failing = "";
    meInSession = true;
  });

  it("resumes a client's session and starts the portal's five reads before the app exists", async () => {
    refreshed = true;
    me = { id: "u1", name: "Maya Client", roles: ["client"], client_id: "c1", email_verified: true };
    const boot = startSession();
    expect(boot.settled).toBeNull();
    expect(await boot.me).toEqual(me);
    // Who is signed in came with the refresh: no round trip to /me.
    expect(calls[0]).toEqual("refresh");
    expect(calls.slice(1).sort()).toEqual(
      ["/clients/{client_id}/action-steps", "/clients/{client_id}/consents", "/clients/{client_id}/disclosures", "/clients/{client_id}/goals", "/clients/{client_id}/sessions"].sort(),
    );
    // Under the keys the portal's hooks read (keys.ts).
    expect(boot.prefetches.map((p) => p.queryKey).sort()).toEqual(
      [["consents", "c1"], ["disclosures", "c1"], ["goals", "c1"], ["sessions", "client", "c1"], ["steps", "c1"]].sort(),
    );
    await Promise.resolve();
    expect(boot.settled).toEqual({ me });
  });

  it("reads nothing more for a coach", async () => {
    refreshed = true;
    me = { id: "u2", name: "Carla Coach", roles: ["owner", "coach"], email_verified: true };
    const boot = startSession();
    await boot.me;
    expect(calls).toEqual(["refresh"]);
    expect(boot.prefetches).toEqual([]);
  });

  it("asks /me when the renewed session does not say who is signed in", async () => {
    refreshed = true;
    meInSession = false;
    me = { id: "u1", name: "Maya Client", roles: ["client"], client_id: "c1", email_verified: true };
    const boot = startSession();
    expect(await boot.me).toEqual(me);
    expect(calls.slice(0, 2)).toEqual(["refresh", "/me"]);
    expect(calls).toHaveLength(7);
  });

  it("settles signed out, without asking /me, when there is no session to resume", async () => {
    refreshed = false;
    const boot = startSession();
    expect(await boot.me).toBeNull();
    await Promise.resolve();
    expect(boot.settled).toEqual({ me: null });
    expect(calls).toEqual(["refresh"]);
  });

  it("is ready once every read has answered, with each answer kept for the app's first render", async () => {
    refreshed = true;
    failing = "/clients/{client_id}/consents";
    me = { id: "u1", name: "Maya Client", roles: ["client"], client_id: "c1", email_verified: true };
    const boot = startSession();
    await boot.ready;
    const byKey = Object.fromEntries(boot.prefetches.map((p) => [p.queryKey.join("/"), p.result]));
    expect(byKey["steps/c1"]).toEqual({ data: { items: [], next_cursor: null } });
    expect(byKey["goals/c1"]).toEqual({ data: { items: [], next_cursor: null } });
    // A failed read is not kept: the portal's query reads it again when it mounts.
    expect(byKey["consents/c1"]).toBeNull();
  });

  it("is ready at once when signed out", async () => {
    refreshed = false;
    const boot = startSession();
    await boot.ready;
    expect(boot.prefetches).toEqual([]);
  });
});
