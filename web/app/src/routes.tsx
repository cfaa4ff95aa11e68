import { lazy, Suspense, type ReactNode } from "react";
import { createBrowserRouter, Navigate, useLocation } from "react-router";
import { AcceptInvitation, ForgotPassword, Register, SignIn } from "./auth/pages";
import { homeOf, useAuth } from "./auth/AuthContext";
import { Layout } from "./components/Layout";
import { Loading } from "./components/ui";
import { PortalHome } from "./portal/PortalHome";

// The coach workspace, the consent form, the privacy page and the
// therapist view load on demand, so the client portal's first load carries
// none of them.
const CoachRoutes = lazy(() => import("./coach/CoachRoutes"));
const TherapistRoutes = lazy(() => import("./therapist/TherapistRoutes"));
const ConsentSign = lazy(() => import("./consent/ConsentSign"));
const YourData = lazy(() => import("./portal/YourData"));
const AccountPage = lazy(() => import("./account/AccountPage"));

function RequireAuth({ children }: { children: ReactNode }) {
  const { status } = useAuth();
  const loc = useLocation();
  if (status === "loading") return <Loading lines={4} label="Signing you in" />;
  if (status === "signed-out") return <Navigate to="/signin" replace state={{ from: loc.pathname }} />;
  return <>{children}</>;
}

function Home() {
  const { status, me } = useAuth();
  if (status === "loading") return <Loading lines={4} />;
  return <Navigate to={status === "signed-in" ? homeOf(me) : "/signin"} replace />;
}

// BillingLink: Stripe and the e-mailed notices send the owner to /billing
// (after checkout with ?checkout=success); the page lives in the workspace.
function BillingLink() {
  const loc = useLocation();
  return <Navigate to={`/coach/billing${loc.search}`} replace />;
}

function Lazy({ children }: { children: ReactNode }) {
  return <Suspense fallback={<Loading lines={6} />}>{children}</Suspense>;
}

function NotFound() {
  return (
    <div className="page">
      <h1>Page not found</h1>
      <p>
        <a href="/">Go to your start page</a>
      </p>
    </div>
  );
}

export const router = createBrowserRouter([
  { path: "/", element: <Home /> },
  { path: "/signin", element: <SignIn /> },
  { path: "/register", element: <Register /> },
  { path: "/forgot-password", element: <ForgotPassword /> },
  { path: "/accept-invitation", element: <AcceptInvitation /> },
  {
    element: (
      <RequireAuth>
        <Layout />
      </RequireAuth>
    ),
    children: [
      { path: "/portal", element: <PortalHome /> },
      { path: "/billing", element: <BillingLink /> },
      {
        path: "/portal/consent/new",
        element: (
          <Lazy>
            <ConsentSign />
          </Lazy>
        ),
      },
      {
        path: "/portal/data",
        element: (
          <Lazy>
            <YourData />
          </Lazy>
        ),
      },
      {
        path: "/account",
        element: (
          <Lazy>
            <AccountPage />
          </Lazy>
        ),
      },
      {
        path: "/coach/*",
        element: (
          <Lazy>
            <CoachRoutes />
          </Lazy>
        ),
      },
      {
        path: "/therapist/*",
        element: (
          <Lazy>
            <TherapistRoutes />
          </Lazy>
        ),
      },
      { path: "*", element: <NotFound /> },
    ],
  },
]);
