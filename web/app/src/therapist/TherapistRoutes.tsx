import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, Route, Routes, useLocation, useNavigate, useParams } from "react-router";
import { api, unwrap } from "../api/client";
import { ApiError } from "../api/problem";
import { keys } from "../api/keys";
import { CoordinationThread } from "../components/CoordinationThread";
import { Badge, dataClassLabels, Empty, FormError, LoadError, Loading, Progress, Section } from "../components/ui";
import { formatDate, formatDateTime } from "../lib/time";

// The therapist view, loaded on demand: only clients with an active consent
// naming this therapist, read-only, only the consented classes. Every view
// of a client is recorded, and the client sees that it was.
export default function TherapistRoutes() {
  return (
    <Routes>
      <Route index element={<SharedClients />} />
      <Route path="clients/:clientId" element={<SharedClient />} />
    </Routes>
  );
}

// DeclinedState is what the client page hands the list after a decline,
// so the list can say what happened.
type DeclinedState = { declined?: string } | null;

function SharedClients() {
  const q = useQuery({ queryKey: keys.shared.all, queryFn: () => unwrap(api.GET("/shared/clients")) });
  const declined = (useLocation().state as DeclinedState)?.declined;
  return (
    <div className="page">
      <h1>Shared with me</h1>
      {declined && (
        <p className="notice" role="status">
          You declined {declined}'s consent. Their coach is told, and nothing they shared is shown to you any more.
        </p>
      )}
      {q.isPending ? (
        <Loading />
      ) : q.isError ? (
        <LoadError error={q.error} retry={() => q.refetch()} />
      ) : q.data.items.length === 0 ? (
        <Empty title="No client shares anything with you right now.">
          <p>When a client signs a consent naming you, you get an e-mail; after you accept it, they appear here until the consent ends or is revoked.</p>
        </Empty>
      ) : (
        <ul className="client-cards">
          {q.data.items.map((c) => (
            <li key={c.client_id} className="card">
              <h2>
                <Link to={`/therapist/clients/${c.client_id}`}>{c.name}</Link>
              </h2>
              <p className="meta">
                Shares: {c.data_classes.map((d) => dataClassLabels[d]).join(", ")}
              </p>
              <p className="meta">Until {formatDateTime(c.expires_at)}</p>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function SharedClient() {
  const { clientId = "" } = useParams();
  const q = useQuery({
    queryKey: keys.shared.one(clientId),
    queryFn: () => unwrap(api.GET("/shared/clients/{client_id}", { params: { path: { client_id: clientId } } })),
    staleTime: 0,
  });
  if (q.isPending) return <Loading lines={8} />;
  if (q.isError) {
    const refused = q.error instanceof ApiError && (q.error.status === 403 || q.error.status === 404);
    return (
      <div className="page">
        <p>
          <Link to="/therapist">← Shared with me</Link>
        </p>
        {refused ? (
          <div className="alert" role="alert">
            <p>
              <strong>You no longer have access to this client.</strong>
            </p>
            <p>{q.error.message}</p>
          </div>
        ) : (
          <LoadError error={q.error} retry={() => q.refetch()} />
        )}
      </div>
    );
  }
  const v = q.data;
  const has = (c: string) => v.data_classes.includes(c as never);
  return (
    <div className="page">
      <p>
        <Link to="/therapist">← Shared with me</Link>
      </p>
      <h1>{v.name}</h1>
      <div className="scope card" aria-label="Consent scope">
        <p>
          <Badge tone="shared">Shared by the client</Badge> {v.data_classes.map((d) => dataClassLabels[d]).join(", ")}
        </p>
        <p className="meta">
          Until {formatDateTime(v.expires_at)}. The client can revoke this at any time, and sees each time you view it. Read-only.
        </p>
        <DeclineConsent consentId={v.consent_id} clientId={clientId} clientName={v.name} />
      </div>
      <div className="columns">
        <div>
          {has("goals") && (
            <Section title="Goals">
              {(v.goals ?? []).length === 0 ? (
                <Empty title="No goals." />
              ) : (
                <ul className="goals">
                  {v.goals?.map((g) => (
                    <li key={g.id} className="goal">
                      <p className="goal-title">{g.title}</p>
                      <p className="why">
                        <span className="why-label">Why:</span> {g.why}
                      </p>
                      <Progress value={g.progress_percent} label={`Progress on ${g.title}`} />
                    </li>
                  ))}
                </ul>
              )}
            </Section>
          )}
          {has("action_steps") && (
            <Section title="Action steps">
              {(v.action_steps ?? []).length === 0 ? (
                <Empty title="No action steps." />
              ) : (
                <ul className="plain">
                  {v.action_steps?.map((s) => (
                    <li key={s.id}>
                      {s.title} <Badge tone={s.status === "done" ? "ok" : "neutral"}>{s.status}</Badge>{" "}
                      <span className="meta">{s.completed_at ? `done ${formatDateTime(s.completed_at)}` : s.due_date ? `due ${formatDate(s.due_date)}` : ""}</span>
                    </li>
                  ))}
                </ul>
              )}
            </Section>
          )}
          {has("session_attendance") && (
            <Section title="Session attendance">
              {(v.sessions ?? []).length === 0 ? (
                <Empty title="No sessions." />
              ) : (
                <ul className="plain">
                  {v.sessions?.map((s) => (
                    <li key={s.id}>
                      {formatDateTime(s.starts_at)} · {s.duration_minutes} min <Badge>{s.status}</Badge>
                    </li>
                  ))}
                </ul>
              )}
            </Section>
          )}
          {has("session_summaries") && (
            <Section title="Session summaries">
              {(v.session_summaries ?? []).length === 0 ? (
                <Empty title="No summaries." />
              ) : (
                <ul className="plain">
                  {v.session_summaries?.map((s) => (
                    <li key={s.session_id}>
                      <p className="meta">{formatDateTime(s.starts_at)}</p>
                      <p>{s.summary}</p>
                    </li>
                  ))}
                </ul>
              )}
            </Section>
          )}
        </div>
        <div>{has("coordination_notes") && <CoordinationThread clientId={clientId} title="Coordination with the coach" />}</div>
      </div>
    </div>
  );
}

// DeclineConsent lets the therapist a consent names decline it, after a
// confirm step: declining ends the consent for good (only the client can
// sign a new one), so one stray tap must not do it.
function DeclineConsent({ consentId, clientId, clientName }: { consentId: string; clientId: string; clientName: string }) {
  const qc = useQueryClient();
  const nav = useNavigate();
  const [confirming, setConfirming] = useState(false);
  const decline = useMutation({
    mutationFn: () => unwrap(api.POST("/consents/{consent_id}/decline", { params: { path: { consent_id: consentId } } })),
    onSuccess: () => {
      qc.removeQueries({ queryKey: keys.shared.one(clientId) });
      void qc.invalidateQueries({ queryKey: keys.shared.all });
      nav("/therapist", { state: { declined: clientName } satisfies DeclinedState });
    },
  });
  if (!confirming) {
    return (
      <button type="button" className="secondary small" onClick={() => setConfirming(true)}>
        Decline this consent
      </button>
    );
  }
  return (
    <div role="group" aria-label={`Decline ${clientName}'s consent?`} className="confirm">
      <p>Decline {clientName}'s consent? You will no longer see what they share, and only they can sign a new consent. Their coach is told.</p>
      <div className="row">
        <button type="button" className="danger" autoFocus onClick={() => decline.mutate()} disabled={decline.isPending}>
          {decline.isPending ? "Declining…" : "Yes, decline"}
        </button>
        <button type="button" className="secondary" onClick={() => setConfirming(false)} disabled={decline.isPending}>
          Keep sharing
        </button>
      </div>
      <FormError error={decline.error} />
    </div>
  );
}
