import { lazy, startTransition, Suspense, useEffect, useLayoutEffect, useState, type ReactNode } from "react";
import { Link } from "react-router";
import { useAuth } from "../auth/AuthContext";
import {
  useCalendarFeed,
  useClientSessions,
  useCompleteStep,
  useConsents,
  useDisclosures,
  useGoals,
  useRevokeConsent,
  useSteps,
  type ActionStep,
  type Consent,
} from "../api/queries";
import { Badge, dataClassLabels, Empty, FormError, LoadError, Loading, Progress, Section } from "../components/ui";
import { compareIso, formatDate, formatDateTime, relativeDay, today } from "../lib/time";

// The metric chart loads after the first screen, only for metric goals.
const GoalChart = lazy(() => import("../components/ProgressChart"));

// PortalHome is the client's whole portal on one screen, phone first:
// what to do today, why, what is coming, and who may see it.
export function PortalHome() {
  const { me } = useAuth();
  const clientId = me?.client_id;
  // Marks the portal's first commit, for PERF_DEBUG=1 make perf.
  useLayoutEffect(() => void performance.mark("tandem:portal"), []);
  if (!clientId) return <Empty title="No coaching record is linked to this account." />;
  return (
    <div className="page portal">
      <h1>Hello, {me?.name.split(" ")[0]}</h1>
      <TodaySteps clientId={clientId} />
      <AfterFirstPaint>
        <SharingCard clientId={clientId} />
        <GoalsCard clientId={clientId} />
        <UpcomingSessions clientId={clientId} />
        <Disclosures clientId={clientId} />
        <Section title="Your data">
          <p>Export a copy of your record, take your history to a new coach, or ask for your record to be erased.</p>
          <Link className="button secondary small" to="/portal/data">
            Your data and privacy
          </Link>
        </Section>
      </AfterFirstPaint>
    </div>
  );
}

// AfterFirstPaint renders its children once the page above them has been
// painted. A client opens the portal for today's steps, which fill a
// phone's screen; on a throttled phone rendering and laying out the
// sections below them too would hold that first paint up by a few hundred
// milliseconds. They are added below what is shown, so nothing moves.
function AfterFirstPaint({ children }: { children: ReactNode }) {
  const [painted, setPainted] = useState(false);
  useEffect(() => {
    // A frame callback runs just before the next paint; the timeout it
    // sets runs after that paint.
    let timeout = 0;
    const frame = requestAnimationFrame(() => {
      timeout = window.setTimeout(() => startTransition(() => setPainted(true)));
    });
    return () => {
      cancelAnimationFrame(frame);
      clearTimeout(timeout);
    };
  }, []);
  return painted ? children : null;
}

function TodaySteps({ clientId }: { clientId: string }) {
  const steps = useSteps(clientId);
  const goals = useGoals(clientId);
  const day = today();
  if (steps.isPending) return <Section title="Today"><Loading /></Section>;
  if (steps.isError) return <Section title="Today"><LoadError error={steps.error} retry={() => steps.refetch()} /></Section>;
  const open = steps.data.items.filter((s) => s.status === "open");
  const due = open.filter((s) => s.overdue || (s.due_date && s.due_date <= day)).sort((a, b) => compareIso(a.due_date ?? "", b.due_date ?? ""));
  const later = open.filter((s) => !due.includes(s));
  const doneToday = steps.data.items.filter((s) => s.status === "done" && s.completed_at && s.completed_at.slice(0, 10) >= day.slice(0, 10));
  const goalTitle = (id: string) => goals.data?.items.find((g) => g.id === id)?.title;
  return (
    <Section title="Today">
      {due.length === 0 ? (
        <Empty title={doneToday.length > 0 ? "All done for today. Well done." : "Nothing due today."}>
          {later.length > 0 ? <p>Your next step is below, when you are ready.</p> : <p>Your coach adds steps after your sessions; you can add your own to any goal.</p>}
        </Empty>
      ) : (
        <ul className="steps">
          {due.map((s) => (
            <StepItem key={s.id} step={s} clientId={clientId} goal={goalTitle(s.goal_id)} />
          ))}
        </ul>
      )}
      {later.length > 0 && (
        <>
          <h3 className="subhead">Coming up</h3>
          <ul className="steps">
            {later.map((s) => (
              <StepItem key={s.id} step={s} clientId={clientId} goal={goalTitle(s.goal_id)} />
            ))}
          </ul>
        </>
      )}
    </Section>
  );
}

function StepItem({ step, clientId, goal }: { step: ActionStep; clientId: string; goal?: string }) {
  const complete = useCompleteStep(clientId);
  const [reflecting, setReflecting] = useState(false);
  const [note, setNote] = useState("");
  const noteId = `reflection-${step.id}`;
  return (
    <li className={`step ${step.overdue ? "overdue" : ""}`}>
      <div className="step-main">
        <div>
          <p className="step-title">{step.title}</p>
          <p className="meta">
            {goal && <span>{goal} · </span>}
            {step.due_date ? <DueDate date={step.due_date} overdue={step.overdue} /> : "No due date"}
            {step.recurrence !== "none" && <span> · repeats {step.recurrence}</span>}
          </p>
        </div>
        <button type="button" className="primary done-button" disabled={complete.isPending} onClick={() => complete.mutate({ id: step.id })} aria-label={`Mark “${step.title}” done`}>
          Done
        </button>
      </div>
      {reflecting ? (
        <form
          className="reflect"
          onSubmit={(e) => {
            e.preventDefault();
            complete.mutate({ id: step.id, note });
          }}
        >
          <label htmlFor={noteId}>How did it go? (optional)</label>
          <textarea id={noteId} value={note} onChange={(e) => setNote(e.target.value)} rows={3} maxLength={5000} />
          <div className="row">
            <button type="submit" className="primary" disabled={complete.isPending}>
              Done, with this reflection
            </button>
            <button type="button" className="secondary" onClick={() => setReflecting(false)}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <button type="button" className="link small" onClick={() => setReflecting(true)}>
          Add a reflection
        </button>
      )}
      <FormError error={complete.error} />
    </li>
  );
}

// DueDate says when a step is due, in words when it is near; the exact
// date is in the <time> element for assistive technology and machines.
function DueDate({ date, overdue }: { date: string; overdue: boolean }) {
  const time = <time dateTime={date}>{relativeDay(date, today())}</time>;
  if (!overdue) return <>Due {time}</>;
  return <Badge tone="warn">Overdue: due {time}</Badge>;
}

function GoalsCard({ clientId }: { clientId: string }) {
  const goals = useGoals(clientId);
  return (
    <Section title="Your goals">
      {goals.isPending ? (
        <Loading />
      ) : goals.isError ? (
        <LoadError error={goals.error} retry={() => goals.refetch()} />
      ) : goals.data.items.filter((g) => g.status === "active").length === 0 ? (
        <Empty title="No goals yet.">
          <p>You and your coach set them together in your next session.</p>
        </Empty>
      ) : (
        <ul className="goals">
          {goals.data.items
            .filter((g) => g.status === "active")
            .map((g) => (
              <li key={g.id} className="goal">
                <p className="goal-title">{g.title}</p>
                <p className="why">
                  <span className="why-label">Why it matters:</span> {g.why}
                </p>
                <Progress value={g.progress_percent} label={`Progress on ${g.title}`} />
                {g.metric && (
                  <p className="meta">
                    {g.current_value ?? g.metric.baseline} of {g.metric.target} {g.metric.unit}
                    {g.target_date && ` · by ${formatDate(g.target_date)}`}
                  </p>
                )}
                {g.metric && (
                  <Suspense fallback={null}>
                    <GoalChart goal={g} />
                  </Suspense>
                )}
              </li>
            ))}
        </ul>
      )}
    </Section>
  );
}

function UpcomingSessions({ clientId }: { clientId: string }) {
  const sessions = useClientSessions(clientId);
  const feed = useCalendarFeed();
  const now = new Date().toISOString();
  const upcoming = sessions.data?.items.filter((s) => s.status === "scheduled" && s.ends_at > now) ?? [];
  return (
    <Section title="Upcoming sessions">
      {sessions.isPending ? (
        <Loading lines={2} />
      ) : sessions.isError ? (
        <LoadError error={sessions.error} retry={() => sessions.refetch()} />
      ) : upcoming.length === 0 ? (
        <Empty title="No session scheduled." />
      ) : (
        <ul className="plain">
          {upcoming.slice(0, 5).map((s) => (
            <li key={s.id} className="session-row">
              <strong>{formatDateTime(s.starts_at)}</strong> · {s.duration_minutes} min{s.location && ` · ${s.location}`}
              {s.agenda && <p className="meta">{s.agenda}</p>}
            </li>
          ))}
        </ul>
      )}
      {feed.data ? (
        <div className="feed">
          <p>Subscribe in your calendar app with this private address (anyone who has it sees your session times):</p>
          <p>
            <a className="button secondary" href={feed.data.url.replace(/^https?:/, "webcal:")}>
              Open in calendar app
            </a>
          </p>
          <input readOnly value={feed.data.url} aria-label="Calendar feed address" onFocus={(e) => e.currentTarget.select()} />
        </div>
      ) : (
        <button type="button" className="secondary" onClick={() => feed.mutate()} disabled={feed.isPending}>
          Add to my calendar
        </button>
      )}
      <FormError error={feed.error} />
    </Section>
  );
}

const liveStates = new Set(["active", "pending"]);

// SharingCard lists the consents that share something now; revoking one
// takes two taps from here: Revoke, then Yes.
function SharingCard({ clientId }: { clientId: string }) {
  const consents = useConsents(clientId);
  const live = consents.data?.items.filter((c) => liveStates.has(c.status) && c.signature) ?? [];
  const requested = consents.data?.items.filter((c) => !c.signature && c.status === "pending") ?? [];
  return (
    <Section
      title="Sharing with a therapist"
      actions={
        <Link className="button secondary small" to="/portal/consent/new">
          Share with a therapist
        </Link>
      }
    >
      {consents.isPending ? (
        <Loading lines={1} />
      ) : consents.isError ? (
        <LoadError error={consents.error} retry={() => consents.refetch()} />
      ) : live.length === 0 ? (
        <Empty title="You share nothing with anyone.">
          <p>Nothing from your coaching reaches a therapist unless you sign a consent. You can withdraw it at any time.</p>
        </Empty>
      ) : (
        <ul className="plain">
          {live.map((c) => (
            <ConsentRow key={c.id} consent={c} clientId={clientId} />
          ))}
        </ul>
      )}
      {requested.map((r) => (
        <p key={r.id} className="notice">
          Your coach asks whether you would share with {r.therapist_name}.{" "}
          <Link to={`/portal/consent/new?request=${r.id}`}>Read and decide</Link>
        </p>
      ))}
    </Section>
  );
}

function ConsentRow({ consent, clientId }: { consent: Consent; clientId: string }) {
  const revoke = useRevokeConsent(clientId);
  const [confirming, setConfirming] = useState(false);
  return (
    <li className="consent-row">
      <div>
        <p>
          <strong>{consent.therapist_name}</strong> <Badge tone={consent.status === "active" ? "ok" : "neutral"}>{consent.status === "active" ? "Active" : "Waiting for the therapist"}</Badge>
        </p>
        <p className="meta">
          Sees: {consent.data_classes.map((d) => dataClassLabels[d]).join(", ")} · until {formatDateTime(consent.expires_at)}
        </p>
      </div>
      {confirming ? (
        <div className="row" role="group" aria-label={`Revoke consent for ${consent.therapist_name}?`}>
          <button type="button" className="danger" autoFocus onClick={() => revoke.mutate(consent.id)} disabled={revoke.isPending}>
            Yes, stop sharing
          </button>
          <button type="button" className="secondary" onClick={() => setConfirming(false)}>
            Keep
          </button>
        </div>
      ) : (
        <button type="button" className="secondary" onClick={() => setConfirming(true)}>
          Revoke
        </button>
      )}
      <FormError error={revoke.error} />
    </li>
  );
}

function Disclosures({ clientId }: { clientId: string }) {
  const list = useDisclosures(clientId);
  return (
    <Section title="Who saw my data">
      {list.isPending ? (
        <Loading lines={2} />
      ) : list.isError ? (
        <LoadError error={list.error} retry={() => list.refetch()} />
      ) : list.data.items.length === 0 ? (
        <Empty title="No one has viewed your data." />
      ) : (
        <ul className="plain disclosures">
          {list.data.items.slice(0, 20).map((d) => (
            <li key={d.id}>
              <strong>{d.therapist_name}</strong> viewed {d.data_classes.map((c) => dataClassLabels[c]?.toLowerCase()).join(", ")}
              <span className="meta"> · {formatDateTime(d.disclosed_at)}</span>
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}
