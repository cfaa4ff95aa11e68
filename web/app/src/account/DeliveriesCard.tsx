import { useInfiniteQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { keys } from "../api/keys";
import type { components } from "../api/schema.gen";
import { Badge, Empty, LoadError, Loading, Section } from "../components/ui";
import { formatDateTime } from "../lib/time";

type Delivery = components["schemas"]["MailDelivery"];

const kindNames: Record<string, string> = {
  "client-invitation": "Invitation to the client portal",
  "coach-invitation": "Invitation to join a practice",
  "consent-invitation": "Invitation to see shared progress",
  "consent-signed": "Consent signed",
  "consent-activated": "Consent accepted by the therapist",
  "consent-expiry": "Consent ending soon",
  "consent-erased": "Consent record erased",
  digest: "Morning digest",
  "session-reminder": "Session reminder",
  "weekly-summary": "Weekly practice summary",
  "verify-email": "Confirm your e-mail address",
  "change-email": "Confirm your new e-mail address",
  "change-email-notice": "Your e-mail address is changing",
  "password-reset": "Password reset link",
  "password-changed": "Your password was changed",
  "mfa-on": "Two-step sign-in turned on",
  "mfa-off": "Two-step sign-in turned off",
  "already-registered": "Someone tried to register with your address",
  "billing-trial-ending": "Trial ending",
  "billing-payment-failed": "Payment failed",
  "billing-grace-ending": "Payment overdue",
  "billing-read-only": "Practice is read-only",
  "webhook-disabled": "A webhook was turned off",
};

// kindName is what an e-mail was, in words; an unknown kind is shown
// as itself, spaced ("some-new-kind" → "Some new kind").
export function kindName(kind: string): string {
  const known = kindNames[kind];
  if (known) return known;
  const words = kind.replace(/[-_]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const statusWords: Record<Delivery["status"], { text: string; tone: "ok" | "warn" | "danger" | "neutral" }> = {
  queued: { text: "Waiting to be sent", tone: "neutral" },
  retrying: { text: "Delayed, trying again", tone: "warn" },
  sent: { text: "Sent", tone: "ok" },
  failed: { text: "Could not be delivered", tone: "danger" },
};

// plainError says in words what a mail server's answer means.
export function plainError(raw: string): string {
  const e = raw.toLowerCase();
  if (/(user unknown|no such user|mailbox unavailable|does not exist|recipient.*(rejected|invalid)|address rejected|\b550\b)/.test(e))
    return "The receiving mail server says this address does not exist or does not accept mail.";
  if (/(mailbox full|quota|over quota|\b552\b)/.test(e)) return "The mailbox is full.";
  if (/(spam|blocked|blacklist|policy|\b554\b)/.test(e)) return "The receiving mail server refused it as unwanted mail.";
  if (/(timeout|timed out|deadline)/.test(e)) return "The mail server took too long to answer.";
  if (/(connection refused|no route|unreachable|dial|lookup|no such host|eof|reset by peer)/.test(e)) return "Tandem could not reach the mail server.";
  if (/(\b4\d\d\b|try again|temporar|greylist)/.test(e)) return "The receiving mail server asked us to try again later.";
  if (/(auth|credentials|535)/.test(e)) return "Tandem's mail server refused our sign-in.";
  return "The mail server refused it.";
}

// DeliveriesCard is the caller's own e-mail log (GET /me/deliveries):
// what was sent, when, and whether it arrived. Never the message itself.
export function DeliveriesCard() {
  const log = useInfiniteQuery({
    queryKey: keys.account.deliveries,
    queryFn: ({ pageParam }) => unwrap(api.GET("/me/deliveries", { params: { query: { limit: 20, ...(pageParam ? { cursor: pageParam } : {}) } } })),
    initialPageParam: "",
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const items = log.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Section title="E-mails we sent you">
      <p className="hint">Every e-mail Tandem sent to you in the last 180 days, and how it went. The messages themselves are not kept here.</p>
      {log.isPending ? (
        <Loading lines={3} />
      ) : log.isError ? (
        <LoadError error={log.error} retry={() => log.refetch()} />
      ) : items.length === 0 ? (
        <Empty title="We have not e-mailed you yet." />
      ) : (
        <ul className="plain deliveries">
          {items.map((d) => (
            <DeliveryRow key={d.id} delivery={d} />
          ))}
        </ul>
      )}
      {log.hasNextPage && (
        <button type="button" className="secondary small" disabled={log.isFetchingNextPage} onClick={() => log.fetchNextPage()}>
          {log.isFetchingNextPage ? "Loading…" : "Show older e-mails"}
        </button>
      )}
    </Section>
  );
}

function DeliveryRow({ delivery: d }: { delivery: Delivery }) {
  const status = statusWords[d.status];
  const deferred = d.status === "queued" && d.send_after > d.created_at;
  return (
    <li>
      <p>
        <strong>{kindName(d.kind)}</strong> <Badge tone={status.tone}>{status.text}</Badge>
      </p>
      <p className="meta">
        {formatDateTime(d.sent_at ?? d.created_at)} · to {d.recipient}
        {deferred && ` · held for your quiet hours until ${formatDateTime(d.send_after)}`}
        {d.attempts > 1 && ` · ${d.attempts} attempts`}
      </p>
      {d.last_error && d.status !== "sent" && (
        <details className="delivery-error">
          <summary>{plainError(d.last_error)}</summary>
          <p className="meta">The mail server answered: {d.last_error}</p>
        </details>
      )}
    </li>
  );
}
