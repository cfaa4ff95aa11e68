// The start-up script: the first (and small) file the page runs. It resumes
// the browser's session (the refresh cookie; the answer says who is signed
// in) and, for a client, starts the portal's reads, while the browser is
// still downloading and evaluating React and the rest of the app
// (src/app.tsx). On a throttled phone that evaluation takes longer than the
// two rounds of requests, so the first screen does not wait for them in turn.
// Keep this file's imports light: everything it imports runs before the
// session can start.
import { api, unwrap } from "./api/client";
import { portalKeys, portalReads } from "./api/portalReads";
import { resumeSession } from "./api/session";
import type { components } from "./api/schema.gen";

export type Me = components["schemas"]["Me"];

// Prefetch is one read already under way, which the app hands to its query
// cache under the key the portal's hooks use. result is set once it has
// answered, so the app can put the answer in its cache before its first
// render rather than a render later.
export type Prefetch = { queryKey: readonly unknown[]; data: Promise<unknown>; result: { data: unknown } | null };

// Boot is the session as the start-up found it. settled is set once me has
// resolved, so the app can render the signed-in page at once, without a
// render of the "signing you in" state first. ready settles once me and
// every read started for the first screen have answered (or failed).
export type Boot = {
  me: Promise<Me | null>;
  prefetches: Prefetch[];
  settled: { me: Me | null } | null;
  ready: Promise<void>;
};

export function startSession(): Boot {
  const boot: Boot = { me: Promise.resolve(null), prefetches: [], settled: null, ready: Promise.resolve() };
  boot.me = resumeSession({ acrossTabs: false }).then(async (session) => {
    if (!session) return null;
    // The renewed session says who is signed in; GET /me only if it could not.
    const me = session.me ?? (await unwrap(api.GET("/me")));
    if (me.roles.includes("client") && me.client_id) {
      const clientId = me.client_id;
      for (const name of Object.keys(portalReads) as (keyof typeof portalReads)[]) {
        const prefetch: Prefetch = { queryKey: portalKeys[name](clientId), data: portalReads[name](clientId), result: null };
        // The app reports a failed read when the portal shows it; here it
        // must not count as an unhandled rejection.
        prefetch.data.then((data) => (prefetch.result = { data }), () => undefined);
        boot.prefetches.push(prefetch);
      }
    }
    return me;
  });
  boot.me.then(
    (me) => (boot.settled = { me }),
    () => (boot.settled = { me: null }),
  );
  // The reads are pushed before me resolves, so they are all known here.
  boot.ready = boot.me.then(
    () => Promise.allSettled(boot.prefetches.map((p) => p.data)).then(() => undefined),
    () => undefined,
  );
  return boot;
}
