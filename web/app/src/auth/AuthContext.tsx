import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { useQueryClient, type QueryClient } from "@tanstack/react-query";
import { portalQueries } from "../api/queries";
import { api, unwrap } from "../api/client";
import { ApiError } from "../api/problem";
import type { components } from "../api/schema.gen";
import { csrfHeaders, onSessionChange, refreshSession, setAccessToken } from "../api/session";

export type Me = components["schemas"]["Me"];

type Auth = {
  status: "loading" | "signed-out" | "signed-in";
  me: Me | null;
  // signIn: null when signed in, or the MFA token the second step needs.
  signIn: (email: string, password: string) => Promise<string | null>;
  signInWithCode: (mfaToken: string, code: string) => Promise<void>;
  adopt: (refreshToken: string) => Promise<void>;
  signOut: () => Promise<void>;
  // reloadMe reads /me again after the account changed (two-step sign-in).
  reloadMe: () => Promise<void>;
};

const AuthContext = createContext<Auth | null>(null);

const csrf = { header: csrfHeaders };

// startSession resumes the browser's session (the refresh cookie) and
// reads who is signed in, before React first renders, and for a client
// starts loading the portal at once: the first screen waits for one round
// of requests, not three.
export function startSession(qc: QueryClient): Promise<Me | null> {
  return refreshSession({ acrossTabs: false }).then(async (ok) => {
    if (!ok) return null;
    const me = await unwrap(api.GET("/me"));
    if (me.roles.includes("client") && me.client_id) {
      const id = me.client_id;
      for (const q of [portalQueries.steps(id), portalQueries.goals(id), portalQueries.consents(id), portalQueries.sessions(id), portalQueries.disclosures(id)]) {
        void qc.prefetchQuery(q as Parameters<QueryClient["prefetchQuery"]>[0]);
      }
    }
    return me;
  });
}

export function AuthProvider({ children, boot }: { children: ReactNode; boot: Promise<Me | null> }) {
  const qc = useQueryClient();
  const [status, setStatus] = useState<Auth["status"]>("loading");
  const [me, setMe] = useState<Me | null>(null);

  const loadMe = useCallback(async () => {
    const m = await unwrap(api.GET("/me"));
    setMe(m);
    setStatus("signed-in");
  }, []);

  useEffect(() => {
    let live = true;
    boot
      .then((m) => {
        if (!live) return;
        setMe(m);
        setStatus(m ? "signed-in" : "signed-out");
      })
      .catch(() => live && setStatus("signed-out"));
    const off = onSessionChange((signedIn) => {
      if (!signedIn) {
        setMe(null);
        setStatus("signed-out");
        qc.clear();
      }
    });
    return () => {
      live = false;
      off();
    };
  }, [boot, qc]);

  const adopt = useCallback(
    async (refreshToken: string) => {
      const s = await unwrap(api.POST("/auth/browser/refresh", { params: csrf, body: { refresh_token: refreshToken } }));
      setAccessToken(s.access_token);
      await loadMe();
    },
    [loadMe],
  );

  const value = useMemo<Auth>(
    () => ({
      status,
      me,
      async signIn(email, password) {
        const { data, error, response } = await api.POST("/auth/browser/login", { params: csrf, body: { email, password } });
        if (!response.ok) throw new ApiError(response.status, error as never);
        if (data && "mfa_token" in data) return data.mfa_token;
        if (data && "access_token" in data) setAccessToken(data.access_token);
        await loadMe();
        return null;
      },
      async signInWithCode(mfaToken, code) {
        const pair = await unwrap(api.POST("/auth/login/mfa", { body: { mfa_token: mfaToken, code } }));
        await adopt(pair.refresh_token);
      },
      adopt,
      reloadMe: loadMe,
      async signOut() {
        await api.POST("/auth/browser/logout", { params: csrf }).catch(() => undefined);
        setAccessToken(null);
      },
    }),
    [status, me, loadMe, adopt],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const a = useContext(AuthContext);
  if (!a) throw new Error("useAuth outside AuthProvider");
  return a;
}

export function isStaff(me: Me | null): boolean {
  return !!me?.roles.some((r) => r === "owner" || r === "coach");
}

export function isClient(me: Me | null): boolean {
  return !!me?.roles.includes("client") && !!me.client_id;
}

// homeOf is where a person lands after signing in.
export function homeOf(me: Me | null): string {
  if (isStaff(me)) return "/coach";
  if (isClient(me)) return "/portal";
  return "/therapist";
}
