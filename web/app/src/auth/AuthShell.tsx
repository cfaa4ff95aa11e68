import type { ReactNode } from "react";

// AuthShell is the frame of the signed-out pages: one card, the brand, a
// title and the page's own content.
export function AuthShell({ title, children, lead }: { title: string; lead?: string; children: ReactNode }) {
  return (
    <main id="main" className="auth">
      <div className="auth-card">
        <p className="brand" aria-hidden="true">
          Tandem
        </p>
        <h1>{title}</h1>
        {lead && <p className="lead">{lead}</p>}
        {children}
      </div>
    </main>
  );
}
