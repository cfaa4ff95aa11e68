import { useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { keys } from "../api/keys";
import { cancelClientErasure, requestClientErasure, startClientExport, useClientErasure, useHistoryImports, type ErasureRequest } from "../api/privacy";
import { useAuth } from "../auth/AuthContext";
import { DataExport } from "../components/DataExport";
import { StepUpAction } from "../components/StepUp";
import { Badge, Empty, FormError, LoadError, Loading, Section } from "../components/ui";
import { formatDateTime, formatMoment } from "../lib/time";

// ClientDataCard is the client's record as data: an export (with the
// private notes, for staff), the history the client imported, and for the
// owner an erasure request the client made another way (a pending one
// shows to the client's coach too).
export function ClientDataCard({ clientId, name }: { clientId: string; name: string }) {
  const { me } = useAuth();
  const owner = !!me?.roles.includes("owner");
  return (
    <Section title="Record and privacy">
      <p>An export of {name}'s record as a ZIP, your private notes included.</p>
      <DataExport start={() => startClientExport(clientId)} label="Export this client's record" what="the archive" tone="secondary" />
      <ImportedHistory clientId={clientId} />
      <RecordErasure clientId={clientId} name={name} owner={owner} />
    </Section>
  );
}

function ImportedHistory({ clientId }: { clientId: string }) {
  const imports = useHistoryImports(clientId);
  return (
    <>
      <h3 className="subhead">History from other practices</h3>
      {imports.isPending ? (
        <Loading lines={1} />
      ) : imports.isError ? (
        <LoadError error={imports.error} retry={() => imports.refetch()} />
      ) : imports.data.items.length === 0 ? (
        <Empty title="None imported." />
      ) : (
        <ul className="plain">
          {imports.data.items.map((h) => (
            <li key={h.id}>
              <p>
                From {h.practice_name ?? h.issuer} {h.verified && <Badge tone="ok">Signature verified</Badge>} <span className="meta">read-only, issued {formatDateTime(h.issued_at)}</span>
              </p>
              <ul>
                {h.goals.map((g, i) => (
                  <li key={i}>
                    {g.title} <span className="meta">({g.status})</span>
                  </li>
                ))}
              </ul>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

// RecordErasure shows a pending erasure request, read on load so that it
// survives a reload; the owner may record one on the client's word and
// cancel it, a coach sees it.
function RecordErasure({ clientId, name, owner }: { clientId: string; name: string; owner: boolean }) {
  const qc = useQueryClient();
  const pending = useClientErasure(clientId);
  const request = pending.data ?? null;
  const setRequest = (r: ErasureRequest | null) => qc.setQueryData(keys.erasure.ofClient(clientId), r);
  const [confirming, setConfirming] = useState(false);
  const cancel = useMutation({
    mutationFn: () => cancelClientErasure(clientId),
    onSuccess: () => {
      setRequest(null);
      setConfirming(false);
    },
  });
  return (
    <>
      <h3 className="subhead">Erasure</h3>
      {pending.isPending ? (
        <Loading lines={1} />
      ) : pending.isError ? (
        <LoadError error={pending.error} retry={() => pending.refetch()} />
      ) : request ? (
        <div className="notice" role="status">
          <p>
            <strong>
              {name}'s data will be erased on {formatMoment(request.due_at)}
            </strong>
            , after the cooling-off period. {request.requested_by === "owner" ? "Recorded by the owner" : `${name} asked`} on {formatDateTime(request.requested_at)}.
            {request.cancellable_by.includes("client") ? ` ${name} can cancel it from the portal.` : ""}
          </p>
          {owner && request.cancellable_by.includes("owner") && (
            <button type="button" className="secondary small" disabled={cancel.isPending} onClick={() => cancel.mutate()}>
              Cancel the erasure request
            </button>
          )}
          <FormError error={cancel.error} />
        </div>
      ) : !owner ? (
        <p className="meta">No erasure requested.</p>
      ) : confirming ? (
        <StepUpAction
          label="Record the erasure request"
          busyLabel="Recording…"
          tone="danger"
          onCancel={() => setConfirming(false)}
          action={async () => setRequest(await requestClientErasure(clientId))}
        >
          <p>Only when {name} asked you, in writing or by phone. The record is erased after the cooling-off period unless cancelled.</p>
        </StepUpAction>
      ) : (
        <button type="button" className="secondary small" onClick={() => setConfirming(true)}>
          Record an erasure request
        </button>
      )}
    </>
  );
}
