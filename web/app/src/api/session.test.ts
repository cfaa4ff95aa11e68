import { getAccessToken, onSessionChange, setAccessToken } from "./session";

describe("the in-memory session", () => {
  it("signs this tab out when another tab signs out", async () => {
    setAccessToken("token-of-this-tab", false);
    const changes: boolean[] = [];
    const off = onSessionChange((signedIn) => changes.push(signedIn));
    // Another tab of the same origin announces its sign-out.
    const otherTab = new BroadcastChannel("tandem-session");
    otherTab.postMessage("signed-out");
    await new Promise((r) => setTimeout(r, 50));
    expect(getAccessToken()).toBeNull();
    expect(changes).toEqual([false]);
    off();
    otherTab.close();
  });

  it("keeps the access token in memory only", () => {
    setAccessToken("secret-access", false);
    expect(getAccessToken()).toBe("secret-access");
    expect(document.cookie).not.toContain("secret-access");
    expect(JSON.stringify({ ...window.localStorage })).not.toContain("secret-access");
    expect(JSON.stringify({ ...window.sessionStorage })).not.toContain("secret-access");
    setAccessToken(null, false);
  });
});
