import { useAuth } from "../auth/AuthContext";
import { DeliveriesCard } from "./DeliveriesCard";
import { DevicesCard } from "./DevicesCard";
import { EmailCard } from "./EmailCard";
import { NotificationsCard } from "./NotificationsCard";
import { PasswordCard } from "./PasswordCard";
import { TwoFactorCard } from "./TwoFactorCard";
import "./account.css";

// AccountPage is every person's own settings, whatever their role: how
// they sign in, where they are signed in, and what Tandem e-mails them.
export default function AccountPage() {
  const { me } = useAuth();
  if (!me) return null;
  return (
    <div className="page account">
      <h1>Account settings</h1>
      <p className="lead">
        Signed in as {me.name} ({me.email}).
      </p>
      {me.mfa_enrolment_required && (
        <p className="notice" role="status">
          Your practice requires two-step sign-in: set it up below. Until then, only these settings are available.
        </p>
      )}
      <div className="columns">
        <div>
          <NotificationsCard roles={me.roles} />
          <DeliveriesCard />
        </div>
        <div>
          <PasswordCard />
          <EmailCard current={me.email} mfa={me.mfa_enabled} />
          <TwoFactorCard enabled={me.mfa_enabled} />
          <DevicesCard />
        </div>
      </div>
    </div>
  );
}
