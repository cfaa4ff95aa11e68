import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { ApiError } from "../api/problem";
import { csrfHeaders, onSessionChange, setAccessToken, type BrowserSession } from "../api/session";
import type { Boot, Me } from "../boot";

export type { Me };

type Auth = {
  status: "loading" | "signed-out" | "signed-in";
  me: Me | null;
  // signIn: null when signed in, or the MFA token the second step needs.
  signIn: (email: string, password: string) => Promise<string | null>;
  signInWithCode: (mfaToken: string, code: string) => Promise<void>;
  adopt: (refreshToken: string) => Promise<void>;
  // reloadMe reads /me again after something changed it (a confirmed
  // address, two-step sign-in turned on or off).
  reloadMe: () => Promise<void>;
  signOut: () => Promise<void>;
};

const AuthContext = createContext<Auth | null>(null);

const csrf = { header: csrfHeaders };

// AuthProvider holds who is signed in, starting from what the start-up
// found (src/boot.ts): when that has already settled, the first render is
// the signed-in page itself.
export function AuthProvider({ children, boot }: { children: ReactNode; boot: Boot }) {
  const qc = useQueryClient();
  const [status, setStatus] = useState<Auth["status"]>(() => (boot.settled ? (boot.settled.me ? "signed-in" : "signed-out") : "loading"));
  const [me, setMe] = useState<Me | null>(() => boot.settled?.me ?? null);

  const loadMe = useCallback(async () => {
    const m = await unwrap(api.GET("/me"));
    setMe(m);
    setStatus("signed-in");
  }, []);

  // begin holds a new session: its access token, and who it is, which the
  // answer says (GET /me only when it could not).
  const begin = useCallback(
    async (session: BrowserSession) => {
      setAccessToken(session.access_token);
      if (!session.me) return loadMe();
      setMe(session.me);
      setStatus("signed-in");
    },
    [loadMe],
  );

  useEffect(() => {
    let live = true;
    boot.me
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
      await begin(await unwrap(api.POST("/auth/browser/refresh", { params: csrf, body: { refresh_token: refreshToken } })));
    },
    [begin],
  );

  const value = useMemo<Auth>(
    () => ({
      status,
      me,
      async signIn(email, password) {
        const { data, error, response } = await api.POST("/auth/browser/login", { params: csrf, body: { email, password } });
        if (!response.ok) throw new ApiError(response.status, error as never);
        if (data && "mfa_token" in data) return data.mfa_token;
        if (data && "access_token" in data) await begin(data);
        else await loadMe();
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
    [status, me, loadMe, begin, adopt],
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
