import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "react-router";
import { api, unwrap } from "../api/client";
import { keys } from "../api/keys";
import type { components } from "../api/schema.gen";
import { useAuth } from "../auth/AuthContext";
import { Badge, Empty, FormError, LoadError, Loading, Section } from "../components/ui";
import { formatDateTime } from "../lib/time";

type SignIn = components["schemas"]["SessionInfo"];

// deviceName turns a user agent into words: "Firefox on Android".
export function deviceName(ua: string): string {
  const browser = /Edg\//.test(ua)
    ? "Edge"
    : /Firefox\//.test(ua)
      ? "Firefox"
      : /Chrom(e|ium)\//.test(ua)
        ? "Chrome"
        : /Safari\//.test(ua)
          ? "Safari"
          : "";
  const system = /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Mac OS X/.test(ua) ? "macOS" : /Windows/.test(ua) ? "Windows" : /Linux/.test(ua) ? "Linux" : "";
  if (browser && system) return `${browser} on ${system}`;
  return browser || system || ua.slice(0, 60) || "Unknown device";
}

// DevicesCard lists where the account is signed in and signs devices out.
export function DevicesCard() {
  const qc = useQueryClient();
  const { signOut } = useAuth();
  const nav = useNavigate();
  const list = useQuery({ queryKey: keys.account.signIns, queryFn: () => unwrap(api.GET("/me/sessions", { params: { query: { limit: 200 } } })) });
  const done = () => qc.invalidateQueries({ queryKey: keys.account.signIns });
  const revoke = useMutation({ mutationFn: (id: string) => unwrap(api.DELETE("/me/sessions/{session_id}", { params: { path: { session_id: id } } })), onSettled: done });
  const revokeOthers = useMutation({ mutationFn: () => unwrap(api.DELETE("/me/sessions")), onSettled: done });
  const others = list.data?.items.filter((s) => !s.current).length ?? 0;
  return (
    <Section title="Signed-in devices">
      {list.isPending ? (
        <Loading lines={2} />
      ) : list.isError ? (
        <LoadError error={list.error} retry={() => list.refetch()} />
      ) : list.data.items.length === 0 ? (
        <Empty title="No device is signed in." />
      ) : (
        <ul className="plain devices">
          {list.data.items.map((s) => (
            <Device
              key={s.id}
              signIn={s}
              busy={revoke.isPending && revoke.variables === s.id}
              onSignOut={async () => {
                if (s.current) {
                  await signOut();
                  nav("/signin", { replace: true });
                } else {
                  revoke.mutate(s.id);
                }
              }}
            />
          ))}
        </ul>
      )}
      <FormError error={revoke.error ?? revokeOthers.error} />
      {others > 0 && (
        <button type="button" className="secondary" disabled={revokeOthers.isPending} onClick={() => revokeOthers.mutate()}>
          Sign out every other device
        </button>
      )}
    </Section>
  );
}

function Device({ signIn, busy, onSignOut }: { signIn: SignIn; busy: boolean; onSignOut: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const name = deviceName(signIn.user_agent);
  return (
    <li className="device">
      <div>
        <p>
          <strong>{name}</strong> {signIn.current && <Badge tone="ok">This device</Badge>}
        </p>
        <p className="meta">
          Last active {formatDateTime(signIn.last_used_at)} · signed in {formatDateTime(signIn.created_at)}
          {signIn.ip && ` · ${signIn.ip}`}
        </p>
      </div>
      {confirming ? (
        <div className="row" role="group" aria-label={`Sign out ${name}?`}>
          <button type="button" className="danger small" autoFocus disabled={busy} onClick={onSignOut}>
            {signIn.current ? "Yes, sign me out" : "Yes, sign it out"}
          </button>
          <button type="button" className="secondary small" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </div>
      ) : (
        <button type="button" className="secondary small" onClick={() => setConfirming(true)} aria-label={`Sign out ${name}${signIn.current ? " (this device)" : ""}`}>
          Sign out
        </button>
      )}
    </li>
  );
}
