// The browser session: the access token lives in this module's memory only;
// the refresh token is an HttpOnly cookie the API sets and rotates
// (/auth/browser/*), which script never sees.
import type { components } from "./schema.gen";

type Listener = (signedIn: boolean) => void;

let accessToken: string | null = null;
const listeners = new Set<Listener>();
const channel = typeof BroadcastChannel === "undefined" ? null : new BroadcastChannel("tandem-session");

// Signing out in one tab signs out the others.
channel?.addEventListener("message", (ev: MessageEvent) => {
  if (ev.data === "signed-out") setAccessToken(null, false);
});

export function getAccessToken(): string | null {
  return accessToken;
}

export function setAccessToken(token: string | null, broadcast = true): void {
  const was = accessToken !== null;
  accessToken = token;
  if (was && token === null && broadcast) channel?.postMessage("signed-out");
  if (was !== (token !== null)) listeners.forEach((l) => l(token !== null));
}

export function onSessionChange(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

// The header the cookie operations require against cross-site requests;
// the browser adds Origin by itself.
export const csrfHeaders = { "X-Tandem-CSRF": "1" } as const;

// BrowserSession is a renewed session: the access token and who it is.
export type BrowserSession = components["schemas"]["BrowserSession"];

let refreshing: Promise<BrowserSession | null> | null = null;

// resumeSession asks for a new access token with the refresh cookie; one
// refresh at a time in this tab. It answers the renewed session, which
// also says who is signed in, or null when there is none to renew. A
// refresh token is spent once, and presenting it twice ends the session,
// so a refresh once the page runs (an expired access token) also holds a
// lock across tabs. The first refresh of a page load does not wait for
// that lock: Chromium grants the first Web Lock of a fresh profile only
// after a second or more, which would hold up the first screen; two tabs
// opened at the same instant may then sign each other out, and the next
// sign-in fixes it.
export function resumeSession({ acrossTabs = true } = {}): Promise<BrowserSession | null> {
  if (!refreshing) {
    const run = async () => {
      const res = await fetch("/api/v1/auth/browser/refresh", { method: "POST", headers: csrfHeaders, credentials: "same-origin" });
      if (!res.ok) {
        setAccessToken(null, false);
        return null;
      }
      const body = (await res.json()) as BrowserSession;
      setAccessToken(body.access_token);
      return body;
    };
    const locked = acrossTabs && typeof navigator !== "undefined" && navigator.locks ? (navigator.locks.request("tandem-refresh", run) as unknown as Promise<BrowserSession | null>) : run();
    refreshing = locked.finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

// refreshSession is resumeSession for callers that only need to know
// whether the session is still there.
export function refreshSession(options?: { acrossTabs?: boolean }): Promise<boolean> {
  return resumeSession(options).then((session) => session !== null);
}
