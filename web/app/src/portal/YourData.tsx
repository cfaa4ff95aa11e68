import { useEffect, useRef, useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router";
import { useAuth } from "../auth/AuthContext";
import { keys } from "../api/keys";
import { ApiError, formError } from "../api/problem";
import {
  cancelMyErasure,
  fetchHistoryBundle,
  requestMyErasure,
  startMyExport,
  useHistoryImports,
  useImportHistory,
  useMyErasure,
  useRemoveHistoryImport,
  type ErasureRequest,
  type HistoryBundle,
  type HistoryImport,
} from "../api/privacy";
import { DataExport } from "../components/DataExport";
import { StepUpAction } from "../components/StepUp";
import { Badge, Empty, FormError, LoadError, Loading, Section } from "../components/ui";
import { formatDate, formatDateTime, localDate } from "../lib/time";

const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
const longDateTime = (iso: string) => new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" }).format(new Date(iso));

// YourData is the client's privacy page: a copy of everything, erasure with
// its cooling-off period, and a signed history to take to a new coach or
// bring from an old one.
export default function YourData() {
  const { me } = useAuth();
  const clientId = me?.client_id ?? "";
  return (
    <div className="page portal">
      <p>
        <Link to="/portal">← Back</Link>
      </p>
      <h1>Your data</h1>
      <p className="lead">Your coaching record belongs to you. Take a copy, take it to another coach, or have it erased.</p>
      <Section title="Export my data">
        <p>A ZIP file with everything Tandem holds about you: your account, goals, steps and reflections, sessions with their shared summaries, consents with the text you signed, and who saw your data. It has a readable summary (summary.html) and one JSON file per kind of record.</p>
        <DataExport start={startMyExport} label="Export my data" what="your archive" />
      </Section>
      <Section title="Take my history to a new coach">
        <p>A file with your goals, steps and reflections, and your sessions with their shared summaries, signed by this Tandem so that another practice can check it was not changed. Your coach's private notes are not in it.</p>
        <StepUpAction label="Download my history" busyLabel="Preparing…" tone="secondary" action={async () => saveBundle(await fetchHistoryBundle())} />
      </Section>
      {clientId && <ImportHistory clientId={clientId} />}
      <Erasure />
    </div>
  );
}

// saveBundle hands the signed bundle to the browser as a file.
function saveBundle(bundle: HistoryBundle) {
  const url = URL.createObjectURL(new Blob([JSON.stringify(bundle)], { type: "application/json" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = `tandem-history-${localDate(new Date())}.json`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function ImportHistory({ clientId }: { clientId: string }) {
  const imports = useHistoryImports(clientId);
  const importHistory = useImportHistory(clientId);
  const [fileError, setFileError] = useState<string>();
  const [done, setDone] = useState(false);
  const inputId = "history-file";

  async function submit(ev: FormEvent<HTMLFormElement>) {
    ev.preventDefault();
    const form = ev.currentTarget;
    const file = (form.elements.namedItem("bundle") as HTMLInputElement).files?.[0];
    setFileError(undefined);
    setDone(false);
    importHistory.reset();
    if (!file) return setFileError("Choose the history file you downloaded from your previous practice.");
    let bundle: HistoryBundle;
    try {
      bundle = JSON.parse(await file.text()) as HistoryBundle;
    } catch {
      return setFileError("This file is not a Tandem history file: it is not JSON.");
    }
    importHistory.mutate(bundle, {
      onSuccess: () => {
        form.reset();
        setDone(true);
      },
      onError: (e) => setFileError(e instanceof ApiError ? formError(e, []) : "The file could not be imported."),
    });
  }

  return (
    <Section title="Bring my history from another practice">
      <p>Import the history file you downloaded from your previous practice. Your coach here sees it, read-only and marked with where it comes from; you can remove it at any time.</p>
      <form onSubmit={submit} noValidate className="inline-form">
        <div className="field">
          <label htmlFor={inputId}>History file (.json)</label>
          <input
            id={inputId}
            name="bundle"
            type="file"
            accept=".json,application/json"
            aria-invalid={fileError ? true : undefined}
            aria-describedby={fileError ? `${inputId}-error` : undefined}
            onChange={() => setFileError(undefined)}
          />
          {fileError && (
            <p className="field-error" id={`${inputId}-error`}>
              {fileError}
            </p>
          )}
        </div>
        <button type="submit" className="secondary" disabled={importHistory.isPending}>
          {importHistory.isPending ? "Importing…" : "Import"}
        </button>
      </form>
      {done && (
        <p className="notice" role="status">
          Imported. The signature checked out.
        </p>
      )}
      <h3 className="subhead">Imported history</h3>
      {imports.isPending ? (
        <Loading lines={2} />
      ) : imports.isError ? (
        <LoadError error={imports.error} retry={() => imports.refetch()} />
      ) : imports.data.items.length === 0 ? (
        <Empty title="Nothing imported." />
      ) : (
        <ul className="plain">
          {imports.data.items.map((h) => (
            <ImportedHistory key={h.id} history={h} clientId={clientId} />
          ))}
        </ul>
      )}
    </Section>
  );
}

function ImportedHistory({ history: h, clientId }: { history: HistoryImport; clientId: string }) {
  const remove = useRemoveHistoryImport(clientId);
  const [confirming, setConfirming] = useState(false);
  const origin = h.practice_name ? `${h.practice_name} (${h.issuer})` : h.issuer;
  return (
    <li className="history-import">
      <p>
        <strong>From {origin}</strong> {h.verified && <Badge tone="ok">Signature verified</Badge>}
      </p>
      <p className="meta">
        Issued {formatDateTime(h.issued_at)} · imported {formatDateTime(h.imported_at)} · {count(h.goals.length, "goal", "goals")} · {count(h.action_steps.length, "step", "steps")} ·{" "}
        {count(h.sessions.length, "session", "sessions")}
      </p>
      {h.goals.length > 0 && (
        <details>
          <summary>Goals</summary>
          <ul>
            {h.goals.map((g, i) => (
              <li key={i}>
                {g.title} <span className="meta">({g.status}{g.target_date ? `, by ${formatDate(g.target_date)}` : ""})</span>
                {g.why && (
                  <p className="why">
                    <span className="why-label">Why it matters:</span> {g.why}
                  </p>
                )}
              </li>
            ))}
          </ul>
        </details>
      )}
      {confirming ? (
        <div className="row" role="group" aria-label={`Remove the history from ${origin}?`}>
          <button type="button" className="danger small" disabled={remove.isPending} onClick={() => remove.mutate(h.id)}>
            Yes, remove it
          </button>
          <button type="button" className="secondary small" onClick={() => setConfirming(false)}>
            Keep it
          </button>
        </div>
      ) : (
        <button type="button" className="secondary small" onClick={() => setConfirming(true)}>
          Remove
        </button>
      )}
      <FormError error={remove.error} />
    </li>
  );
}

// Erasure explains the cooling-off period before asking, and shows the
// date a pending request will be carried out, with a way to cancel it.
function Erasure() {
  const qc = useQueryClient();
  // The pending request is read on load, so that it shows after a reload.
  const pending = useMyErasure();
  const request = pending.data ?? null;
  const setRequest = (r: ErasureRequest | null) => qc.setQueryData(keys.erasure.mine, r);
  const [confirming, setConfirming] = useState(false);
  const [cancelled, setCancelled] = useState(false);
  const [asked, setAsked] = useState(false);
  // The buttons that asked or cancelled are gone: focus moves to the outcome.
  const outcome = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (asked || cancelled) outcome.current?.focus();
  }, [asked, cancelled]);
  const cancel = useMutation({
    mutationFn: cancelMyErasure,
    onSuccess: () => {
      setRequest(null);
      setConfirming(false);
      setAsked(false);
      setCancelled(true);
    },
  });
  return (
    <Section title="Erase my record">
      <p>
        You can ask for your coaching record to be erased: your goals, steps and reflections, sessions and their summaries, the history you imported, and your portal account. Nothing is erased at once: there is a cooling-off period (14 days unless your practice set another), and until it ends you can cancel and nothing changes.
      </p>
      <p>
        When it ends, any sharing with a therapist stops (they are told the consent ended, without your name), and your record is deleted. What the law asks to keep stays, without names or contents: that a therapist saw a kind of data, and when. Export your data first if you want a copy.
      </p>
      {pending.isPending ? (
        <Loading lines={1} />
      ) : pending.isError ? (
        <LoadError error={pending.error} retry={() => pending.refetch()} />
      ) : request ? (
        <div className="notice" role="status" tabIndex={-1} ref={outcome}>
          <p>
            <strong>Your data will be erased on {longDateTime(request.due_at)}.</strong> Until then nothing is deleted, and you can cancel.
          </p>
          <p className="meta">
            {request.requested_by === "owner" ? "Your practice recorded this request for you" : "You asked"} on {formatDateTime(request.requested_at)}.
          </p>
          <button type="button" className="secondary" disabled={cancel.isPending} onClick={() => cancel.mutate()}>
            {cancel.isPending ? "Cancelling…" : "Cancel my erasure request"}
          </button>
          <FormError error={cancel.error} />
        </div>
      ) : confirming ? (
        <StepUpAction
          label="Yes, erase my record after the cooling-off period"
          busyLabel="Asking…"
          tone="danger"
          onCancel={() => setConfirming(false)}
          action={async () => {
            setRequest(await requestMyErasure());
            setCancelled(false);
            setAsked(true);
          }}
        >
          <p>
            <strong>Are you sure?</strong> After the cooling-off period this cannot be undone.
          </p>
        </StepUpAction>
      ) : (
        <>
          {cancelled && (
            <div className="notice" role="status" tabIndex={-1} ref={outcome}>
              Your erasure request is cancelled. Nothing was changed.
            </div>
          )}
          <button type="button" className="secondary" onClick={() => setConfirming(true)}>
            Ask to erase my record
          </button>
          <p className="hint">Asked before? Asking again shows the request already waiting rather than making a new one.</p>
        </>
      )}
    </Section>
  );
}
