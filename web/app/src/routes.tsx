import { lazy, Suspense, type ReactNode } from "react";
import { Navigate, useLocation, useRoutes, type RouteObject } from "react-router";
import { homeOf, useAuth } from "./auth/AuthContext";
import { Layout } from "./components/Layout";
import { Loading } from "./components/ui";
import { PortalHome } from "./portal/PortalHome";

// The coach workspace, the consent form, the privacy page, the therapist
// view and the signed-out pages load on demand, so the client portal's
// first load carries none of them.
const CoachRoutes = lazy(() => import("./coach/CoachRoutes"));
const TherapistRoutes = lazy(() => import("./therapist/TherapistRoutes"));
const ConsentSign = lazy(() => import("./consent/ConsentSign"));
const YourData = lazy(() => import("./portal/YourData"));
const authPage = (name: keyof typeof import("./auth/pages")) => lazy(() => import("./auth/pages").then((m) => ({ default: m[name] })));
const SignIn = authPage("SignIn");
const Register = authPage("Register");
const ForgotPassword = authPage("ForgotPassword");
const AcceptInvitation = authPage("AcceptInvitation");
const linkPage = (name: keyof typeof import("./auth/linkPages")) => lazy(() => import("./auth/linkPages").then((m) => ({ default: m[name] })));
const VerifyEmail = linkPage("VerifyEmail");
const ResetPassword = linkPage("ResetPassword");
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

const routes: RouteObject[] = [
  { path: "/", element: <Home /> },
  { path: "/signin", element: <Lazy><SignIn /></Lazy> },
  { path: "/register", element: <Lazy><Register /></Lazy> },
  { path: "/forgot-password", element: <Lazy><ForgotPassword /></Lazy> },
  { path: "/accept-invitation", element: <Lazy><AcceptInvitation /></Lazy> },
  // The e-mailed links' pages, at the paths the e-mails carry.
  { path: "/verify-email", element: <Lazy><VerifyEmail /></Lazy> },
  { path: "/reset-password", element: <Lazy><ResetPassword /></Lazy> },
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
];

export function AppRoutes() {
  return useRoutes(routes);
}
