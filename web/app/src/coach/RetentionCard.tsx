import { useState, type FormEvent } from "react";
import { useRetention, useSaveRetention, type Retention } from "../api/privacy";
import { Field, FormError, LoadError, Loading, Section } from "../components/ui";
import { formatDateTime } from "../lib/time";

// RetentionCard lets the owner set how long the practice keeps records,
// saved with the ETag of the read, and shows what the last run did.
export function RetentionCard() {
  const retention = useRetention();
  // Kept here: a save changes the ETag, which renews the form below.
  const [saved, setSaved] = useState(false);
  return (
    <Section title="Retention">
      {retention.isPending ? (
        <Loading lines={4} />
      ) : retention.isError ? (
        <LoadError error={retention.error} retry={() => retention.refetch()} />
      ) : (
        <RetentionForm key={retention.data.etag} settings={retention.data.data} etag={retention.data.etag} reload={() => retention.refetch()} saved={saved} setSaved={setSaved} />
      )}
    </Section>
  );
}

type FormProps = { settings: Retention; etag: string; reload: () => void; saved: boolean; setSaved: (saved: boolean) => void };

function RetentionForm({ settings, etag, reload, saved, setSaved }: FormProps) {
  const save = useSaveRetention();
  const [keepArchived, setKeepArchived] = useState(settings.archived_client_years == null);
  function submit(ev: FormEvent<HTMLFormElement>) {
    ev.preventDefault();
    const f = new FormData(ev.currentTarget);
    setSaved(false);
    save.mutate(
      { etag, body: { archived_client_years: keepArchived ? null : Number(f.get("archived_client_years")), log_years: Number(f.get("log_years")) } },
      { onSuccess: () => setSaved(true) },
    );
  }
  const run = settings.last_run;
  return (
    <>
      <form onSubmit={submit} noValidate className="inline-form" aria-label="Retention settings">
        <label className="check">
          <input type="checkbox" checked={keepArchived} onChange={(e) => setKeepArchived(e.target.checked)} /> Keep archived clients' records until they ask for erasure
        </label>
        {!keepArchived && (
          <Field
            label="Erase archived clients' records after (years)"
            name="archived_client_years"
            type="number"
            min={1}
            max={50}
            required
            error={save.error}
            defaultValue={settings.archived_client_years ?? 7}
            hint="Counted from the day a client is archived. Default 7."
          />
        )}
        <Field
          label="Keep disclosure and audit logs for (years)"
          name="log_years"
          type="number"
          min={1}
          max={100}
          required
          error={save.error}
          defaultValue={settings.log_years}
          hint="Older entries are deleted. Default 6, HIPAA's documentation retention."
        />
        <FormError error={save.error} fields={["archived_client_years", "log_years"]} onReload={reload} />
        <button type="submit" className="primary" disabled={save.isPending}>
          {save.isPending ? "Saving…" : "Save retention settings"}
        </button>
        {saved && (
          <p className="notice" role="status">
            Saved.
          </p>
        )}
      </form>
      <p className="meta">{settings.updated_at ? `Last changed ${formatDateTime(settings.updated_at)}.` : "These are the defaults."}</p>
      <h3 className="subhead">Last run</h3>
      {settings.last_run_at && run ? (
        <p>
          {formatDateTime(settings.last_run_at)}: {run.clients_erased} archived clients erased, {run.invitations_purged} expired invitations purged, {run.disclosures_deleted} disclosures and {run.audit_events_deleted} audit events deleted.
        </p>
      ) : (
        <p>Not run yet. The retention task runs every 6 hours.</p>
      )}
    </>
  );
}
