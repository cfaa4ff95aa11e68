import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrapWithETag } from "../api/client";
import { keys } from "../api/keys";
import type { components } from "../api/schema.gen";
import { Field, FormError, LoadError, Loading, Section, Select } from "../components/ui";
import { formatMoment } from "../lib/time";

type Preferences = components["schemas"]["NotificationPreferences"];
type Update = components["schemas"]["NotificationPreferencesUpdate"];
type Kind = "daily_digest" | "session_reminders" | "consent_reminders" | "weekly_summary";
type Role = components["schemas"]["Role"];
type KindInfo = { key: Kind; label: string; hint: string; for: Role[] };

export const kinds: KindInfo[] = [
  { key: "daily_digest", label: "Morning digest", hint: "Your action steps due today and overdue, sent only when there are some.", for: ["client"] },
  { key: "session_reminders", label: "Session reminders", hint: "A reminder the day before each session.", for: ["client", "coach", "owner"] },
  { key: "consent_reminders", label: "Consent reminders", hint: "14 days and 1 day before a consent you signed ends.", for: ["client"] },
  { key: "weekly_summary", label: "Weekly practice summary", hint: "A summary of the practice each week.", for: ["coach", "owner"] },
];

// kindsFor is the e-mails a person with these roles can get; someone with
// none of them (a therapist) sees every kind.
export function kindsFor(roles: readonly Role[]): KindInfo[] {
  const mine = kinds.filter((k) => k.for.some((r) => roles.includes(r)));
  return mine.length > 0 ? mine : kinds;
}

// ownZoneFor says whether the person gets mail in their own time zone: an
// owner, coach or therapist does; someone who is only a client gets theirs
// in the zone of their client record, which their coach keeps.
export function ownZoneFor(roles: readonly Role[]): boolean {
  return roles.some((r) => r !== "client") || !roles.includes("client");
}

// browserZone is the IANA zone this browser runs in (UTC when it says none).
export function browserZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

// suggestedZone is what the zone select starts at: the saved zone, or the
// browser's while the saved one is still the default, UTC.
export function suggestedZone(saved: string, browser: string): string {
  return saved === "UTC" && browser ? browser : saved;
}

// zoneOptions lists every zone the browser knows, with UTC and the given
// ones (a saved zone this browser lacks stays choosable).
export function zoneOptions(...keep: string[]): string[] {
  const known = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  return [...new Set([...known, "UTC", ...keep])].sort();
}

const hour = (h: number) => `${String(h).padStart(2, "0")}:00`;

// changes is the PATCH body: only what differs from what was read, with
// quiet hours always sent together (set or cleared as a pair). Kinds the
// form did not show (the zone too, when it is not shown) stay as they are.
export function changes(before: Preferences, f: FormData, shown: readonly KindInfo[] = kinds): Update {
  const out: Update = {};
  for (const k of shown) {
    const on = f.get(k.key) === "on";
    if (on !== before[k.key]) out[k.key] = on;
  }
  const digest = Number(f.get("digest_hour"));
  if (digest !== before.digest_hour) out.digest_hour = digest;
  // An emptied budget keeps the saved one.
  const budget = String(f.get("weekly_nudge_budget") ?? "").trim();
  if (budget !== "" && Number(budget) !== before.weekly_nudge_budget) out.weekly_nudge_budget = Number(budget);
  const quiet = f.get("quiet") === "on";
  const start = quiet ? String(f.get("quiet_hours_start") ?? "") : null;
  const end = quiet ? String(f.get("quiet_hours_end") ?? "") : null;
  const zone = f.get("timezone");
  if (zone !== null && String(zone) !== before.timezone) out.timezone = String(zone);
  if (start !== before.quiet_hours_start || end !== before.quiet_hours_end) {
    out.quiet_hours_start = start;
    out.quiet_hours_end = end;
  }
  return out;
}

// NotificationsCard reads and changes what Tandem may e-mail, and when
// (GET and PATCH /me/notification-preferences, the change under If-Match).
export function NotificationsCard({ roles }: { roles: readonly Role[] }) {
  const qc = useQueryClient();
  const shown = kindsFor(roles);
  const prefs = useQuery({ queryKey: keys.account.preferences, queryFn: () => unwrapWithETag(api.GET("/me/notification-preferences")) });
  const save = useMutation({
    mutationFn: ({ body, etag }: { body: Update; etag: string }) => unwrapWithETag(api.PATCH("/me/notification-preferences", { params: { header: { "If-Match": etag } }, body })),
    onSuccess: (fresh) => qc.setQueryData(keys.account.preferences, fresh),
  });
  const [unchanged, setUnchanged] = useState(false);

  if (prefs.isPending)
    return (
      <Section title="E-mail notifications">
        <Loading lines={5} />
      </Section>
    );
  if (prefs.isError)
    return (
      <Section title="E-mail notifications">
        <LoadError error={prefs.error} retry={() => prefs.refetch()} />
      </Section>
    );
  const { data: p, etag } = prefs.data;

  function submit(ev: FormEvent<HTMLFormElement>) {
    ev.preventDefault();
    const body = changes(p, new FormData(ev.currentTarget), shown);
    if (Object.keys(body).length === 0) {
      setUnchanged(true);
      save.reset();
      return;
    }
    setUnchanged(false);
    save.mutate({ body, etag });
  }

  return (
    <Section title="E-mail notifications">
      <PreferencesForm key={etag} prefs={p} kinds={shown} ownZone={ownZoneFor(roles)} error={save.error} busy={save.isPending} onSubmit={submit} onReload={() => { save.reset(); void prefs.refetch(); }} />
      {(save.isSuccess || unchanged) && (
        <p className="notice" role="status">
          {unchanged ? "Nothing changed." : "Saved."}
        </p>
      )}
      <p className="meta">
        {p.updated_at ? `Last changed ${formatMoment(p.updated_at)}.` : "These are the defaults."} E-mails the law or your safety needs (consent changes, password resets, invitations) are always sent.
      </p>
    </Section>
  );
}

function PreferencesForm({
  prefs: p,
  kinds,
  ownZone,
  error,
  busy,
  onSubmit,
  onReload,
}: {
  prefs: Preferences;
  kinds: readonly KindInfo[];
  ownZone: boolean;
  error: unknown; busy: boolean; onSubmit: (ev: FormEvent<HTMLFormElement>) => void; onReload: () => void }) {
  const [quiet, setQuiet] = useState(p.quiet_hours_start !== null);
  const browser = browserZone();
  const zone = suggestedZone(p.timezone, browser);
  return (
    <form onSubmit={onSubmit} noValidate>
      <fieldset className="choices">
        <legend>Send me</legend>
        {kinds.map((k) => (
          <label key={k.key} className="check check-hint">
            <input type="checkbox" name={k.key} defaultChecked={p[k.key]} />
            <span>
              {k.label}
              <span className="hint">{k.hint}</span>
            </span>
          </label>
        ))}
      </fieldset>
      {ownZone && (
        <Select
          label="Your time zone"
          name="timezone"
          defaultValue={zone}
          error={error}
          hint={
            zone !== p.timezone
              ? `Suggested from this browser; saving uses it (now: ${p.timezone}).`
              : "Your weekly summary goes at 07:00 on your Monday, and your quiet hours are kept, in this zone."
          }
        >
          {zoneOptions(p.timezone, zone).map((z) => (
            <option key={z} value={z}>
              {z}
            </option>
          ))}
        </Select>
      )}
      <p className="hint">
        Hours are in your own time zone{ownZone ? "; mail you get as a client follows" : " (for clients,"} the one on your coaching record{ownZone ? "." : ")."}
      </p>
      <div className="pref-grid">
        <Select label="Morning digest at" name="digest_hour" defaultValue={p.digest_hour} error={error}>
          {Array.from({ length: 24 }, (_, h) => (
            <option key={h} value={h}>
              {hour(h)}
            </option>
          ))}
        </Select>
        <Field
          label="Digests per week, at most"
          name="weekly_nudge_budget"
          type="number"
          min={0}
          max={21}
          step={1}
          defaultValue={p.weekly_nudge_budget}
          error={error}
          hint="0 to 21. Steps of a digest held back stay due and appear in the next one."
        />
      </div>
      <fieldset className="choices">
        <legend>Quiet hours</legend>
        <label className="check">
          <input type="checkbox" name="quiet" checked={quiet} onChange={(e) => setQuiet(e.target.checked)} /> Hold e-mail back during quiet hours
        </label>
        {quiet && (
          <div className="pref-grid">
            <Field label="From" name="quiet_hours_start" type="time" step={60} defaultValue={p.quiet_hours_start ?? "22:00"} error={error} required />
            <Field label="Until" name="quiet_hours_end" type="time" step={60} defaultValue={p.quiet_hours_end ?? "07:00"} error={error} required hint="Mail held back goes out then; none is dropped." />
          </div>
        )}
      </fieldset>
      <FormError error={error} fields={["timezone", "digest_hour", "weekly_nudge_budget", "quiet_hours_start", "quiet_hours_end"]} onReload={onReload} />
      <button type="submit" className="primary" disabled={busy}>
        {busy ? "Saving…" : "Save notification settings"}
      </button>
    </form>
  );
}
