// The browser session: the access token lives in this module's memory only;
// the refresh token is an HttpOnly cookie the API sets and rotates
// (/auth/browser/*), which script never sees.

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

let refreshing: Promise<boolean> | null = null;

// refreshSession asks for a new access token with the refresh cookie. Only
// one refresh runs at a time, across tabs too (a refresh token is spent
// once; presenting it twice would end the session).
export function refreshSession(): Promise<boolean> {
  if (!refreshing) {
    const run = async () => {
      const res = await fetch("/api/v1/auth/browser/refresh", { method: "POST", headers: csrfHeaders, credentials: "same-origin" });
      if (!res.ok) {
        setAccessToken(null, false);
        return false;
      }
      const body = (await res.json()) as { access_token: string };
      setAccessToken(body.access_token);
      return true;
    };
    const locked = typeof navigator !== "undefined" && navigator.locks ? (navigator.locks.request("tandem-refresh", run) as unknown as Promise<boolean>) : run();
    refreshing = locked.finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}
