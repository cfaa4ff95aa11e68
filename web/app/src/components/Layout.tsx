import { Link, NavLink, Outlet, useLocation, useNavigate } from "react-router";
import { isClient, isStaff, useAuth } from "../auth/AuthContext";

// Layout is the frame of every signed-in page: a skip link, the places this
// person can go (by their roles), and signing out.
export function Layout() {
  const { me, signOut } = useAuth();
  const nav = useNavigate();
  const loc = useLocation();
  const staff = isStaff(me);
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="topbar-inner">
          <span className="brand">Tandem</span>
          <nav aria-label="Main">
            <ul>
              {staff && (
                <>
                  <li>
                    <NavLink to="/coach" end>
                      Dashboard
                    </NavLink>
                  </li>
                  <li>
                    <NavLink to="/coach/calendar">Calendar</NavLink>
                  </li>
                  <li>
                    <NavLink to="/coach/clients">Clients</NavLink>
                  </li>
                  <li>
                    <NavLink to="/coach/practice">Practice</NavLink>
                  </li>
                </>
              )}
              {isClient(me) && (
                <li>
                  <NavLink to="/portal">My coaching</NavLink>
                </li>
              )}
              {!staff && !isClient(me) && (
                <li>
                  <NavLink to="/therapist">Shared with me</NavLink>
                </li>
              )}
              {(staff || isClient(me)) && (
                <li className="secondary-nav">
                  <NavLink to="/therapist">Shared with me</NavLink>
                </li>
              )}
              <li>
                <NavLink to="/account">Account</NavLink>
              </li>
            </ul>
          </nav>
          <div className="who">
            <span className="who-name">{me?.name}</span>
            <button
              type="button"
              className="link"
              onClick={async () => {
                await signOut();
                nav("/signin", { replace: true });
              }}
            >
              Sign out
            </button>
          </div>
        </div>
      </header>
      {me && !me.email_verified && (
        <p className="banner" role="status">
          Confirm your e-mail address with the link we sent you: until then you cannot invite anyone or sign a consent.
        </p>
      )}
      {me?.mfa_enrolment_required && loc.pathname !== "/account" && (
        <p className="banner" role="status">
          Your practice requires two-step sign-in. <Link to="/account">Set it up in your account settings</Link> to continue.
        </p>
      )}
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </>
  );
}
