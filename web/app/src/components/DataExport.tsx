import { useEffect, useRef, useState } from "react";
import { useExportStatus, type ExportJob } from "../api/privacy";
import { LoadError } from "./ui";
import { StepUpAction } from "./StepUp";
import { formatDateTime } from "../lib/time";

// sameSite keeps the one-time link on this site's origin (the API answers it
// absolute, with the public base URL).
function sameSite(url: string): string {
  try {
    const u = new URL(url, window.location.origin);
    return u.pathname + u.search;
  } catch {
    return url;
  }
}

function size(bytes?: number | null): string {
  if (bytes == null) return "";
  return bytes < 1024 * 1024 ? ` (${Math.max(1, Math.round(bytes / 1024))} KB)` : ` (${(bytes / 1024 / 1024).toFixed(1)} MB)`;
}

// DataExport starts an export (after the password), shows it being built,
// then offers its one-time download link; once used, it offers a new export.
export function DataExport({ start, label, what, tone }: { start: () => Promise<ExportJob>; label: string; what: string; tone?: "primary" | "secondary" }) {
  const [job, setJob] = useState<ExportJob | null>(null);
  // The button that started it is gone: focus moves to what replaced it.
  const region = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (job) region.current?.focus();
  }, [job]);
  const [used, setUsed] = useState(false);
  const status = useExportStatus(job?.id);
  const current = status.data ?? job;
  const reset = () => {
    setJob(null);
    setUsed(false);
  };

  if (!job || !current) {
    return <StepUpAction label={label} busyLabel="Starting…" tone={tone} action={async () => setJob(await start())} />;
  }
  const expired = new Date(current.expires_at).getTime() < Date.now();
  return (
    <div className="export" aria-live="polite" tabIndex={-1} ref={region}>
      {status.isError ? (
        <LoadError error={status.error} retry={() => status.refetch()} />
      ) : current.status === "pending" ? (
        <div role="status">
          <p>Preparing {what}… This usually takes a few seconds; you can stay on this page.</p>
          <progress aria-label={`Preparing ${what}`} />
        </div>
      ) : current.status === "failed" ? (
        <div className="alert" role="alert">
          <p>The export could not be built. Nothing was sent anywhere.</p>
          <button type="button" className="secondary" onClick={reset}>
            Try again
          </button>
        </div>
      ) : used || current.status === "downloaded" || expired ? (
        <div>
          <p>{expired && !used ? "This download link has expired." : "Downloaded. The link worked once; for another copy, export again."}</p>
          <button type="button" className="secondary" onClick={reset}>
            Export again
          </button>
        </div>
      ) : (
        <div>
          <p>Your archive is ready{size(current.size_bytes)}.</p>
          <a className="button primary" href={sameSite(job.download_url ?? "")} download onClick={() => window.setTimeout(() => setUsed(true), 0)}>
            Download the ZIP
          </a>
          <p className="hint">The link works once, until {formatDateTime(current.expires_at)}. Keep the file somewhere safe: it holds personal data.</p>
        </div>
      )}
    </div>
  );
}
