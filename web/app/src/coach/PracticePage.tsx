import { lazy, Suspense, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { keys } from "../api/keys";
import { useAuth } from "../auth/AuthContext";
import { Badge, Empty, Field, FormError, LoadError, Loading, Section } from "../components/ui";
import { formatDateTime } from "../lib/time";
import { Link } from "react-router";
import { statusWords } from "./billing";
import { billingDisabled, useSubscription } from "./BillingPage";
import { RetentionCard } from "./RetentionCard";

// The audit log is loaded only when the owner opens the practice page.
const AuditLog = lazy(() => import("./AuditLog").then((m) => ({ default: m.AuditLog })));

// PracticePage shows the practice's people; the owner invites coaches,
// sets how long records are kept and reads the audit log.
export function PracticePage() {
  const { me } = useAuth();
  const owner = !!me?.roles.includes("owner");
  const members = useQuery({ queryKey: keys.practice.members, queryFn: () => unwrap(api.GET("/practice/members")) });
  return (
    <div className="page">
      <h1>{me?.practice?.name ?? "Practice"}</h1>
      <Section title="Members">
        {members.isPending ? (
          <Loading />
        ) : members.isError ? (
          <LoadError error={members.error} retry={() => members.refetch()} />
        ) : (
          // The table scrolls inside its card on a phone, never the page;
          // focusable, so that a keyboard can scroll it too.
          <div className="table-scroll" role="region" aria-label="Members" tabIndex={0}>
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">E-mail</th>
                  <th scope="col">Role</th>
                  <th scope="col">Joined</th>
                </tr>
              </thead>
              <tbody>
                {members.data.items.map((m) => (
                  <tr key={m.user_id}>
                    <td>{m.name}</td>
                    <td>{m.email}</td>
                    <td>
                      <Badge>{m.role}</Badge>
                    </td>
                    <td>{formatDateTime(m.joined_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
      {owner && <BillingSummary />}
      {owner && <CoachInvitations />}
      {owner && <RetentionCard />}
      {owner && (
        <Suspense fallback={<Loading lines={3} />}>
          <AuditLog />
        </Suspense>
      )}
    </div>
  );
}

function CoachInvitations() {
  const qc = useQueryClient();
  const list = useQuery({ queryKey: keys.practice.invitations, queryFn: () => unwrap(api.GET("/practice/invitations")) });
  const invite = useMutation({
    mutationFn: (email: string) => unwrap(api.POST("/practice/invitations", { body: { email, role: "coach" } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.practice.invitations }),
  });
  function submit(ev: FormEvent<HTMLFormElement>) {
    ev.preventDefault();
    invite.mutate(String(new FormData(ev.currentTarget).get("email")));
  }
  return (
    <Section title="Invite a coach">
      <form onSubmit={submit} noValidate className="inline-form">
        <Field label="Coach's e-mail" name="email" type="email" error={invite.error} required />
        <FormError error={invite.error} fields={["email"]} />
        <button type="submit" className="primary" disabled={invite.isPending}>
          Send invitation
        </button>
      </form>
      {list.isPending ? (
        <Loading lines={2} />
      ) : list.isError ? (
        <LoadError error={list.error} />
      ) : list.data.items.length === 0 ? (
        <Empty title="No invitations sent." />
      ) : (
        <ul className="plain">
          {list.data.items.map((i) => (
            <li key={i.id}>
              {i.email} <Badge>{i.status}</Badge> <span className="meta">sent {formatDateTime(i.sent_at)}</span>
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}

// BillingSummary is the owner's way to the billing page; a server without
// billing (self-hosted) says so instead.
function BillingSummary() {
  const sub = useSubscription();
  if (sub.isError && billingDisabled(sub.error)) {
    return (
      <Section title="Plan and billing">
        <p className="meta">Billing is not enabled on this server (self-hosted): nothing is limited.</p>
      </Section>
    );
  }
  return (
    <Section title="Plan and billing" actions={<Link to="/coach/billing">See plan and billing</Link>}>
      {sub.isPending ? (
        <Loading lines={1} />
      ) : sub.isError ? (
        <LoadError error={sub.error} retry={() => sub.refetch()} />
      ) : (
        <p>
          {sub.data.plan.name} <Badge tone={statusWords(sub.data).tone}>{statusWords(sub.data).badge}</Badge>
        </p>
      )}
    </Section>
  );
}
