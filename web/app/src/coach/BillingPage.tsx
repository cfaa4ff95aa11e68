import { useMutation, useQuery } from "@tanstack/react-query";
import { useSearchParams } from "react-router";
import { api, unwrap } from "../api/client";
import { keys } from "../api/keys";
import { ApiError } from "../api/problem";
import { useAuth } from "../auth/AuthContext";
import { Badge, FormError, LoadError, Loading, Progress, Section } from "../components/ui";
import { limitLine, limitNames, statusWords, subscribed, usageLine, type Plan, type Subscription } from "./billing";

// billingDisabled: the server runs without Stripe (self-hosted), so
// nothing is limited and there is nothing to pay.
export function billingDisabled(err: unknown): boolean {
  return err instanceof ApiError && err.status === 404 && err.reason === "billing_disabled";
}

// useSubscription is the practice's subscription, shared by the billing
// page and the practice page's summary.
export function useSubscription(enabled = true) {
  return useQuery({ queryKey: keys.billing.subscription, queryFn: () => unwrap(api.GET("/billing/subscription")), enabled });
}

// go sends the browser to a page of Stripe's (Checkout or the portal).
function go(url: string) {
  window.location.assign(url);
}

// BillingPage is the owner's plan, usage, status and the ways to pay.
export function BillingPage() {
  const { me } = useAuth();
  const owner = !!me?.roles.includes("owner");
  const sub = useSubscription(owner);
  const [params] = useSearchParams();
  const checkout = params.get("checkout");
  return (
    <div className="page">
      <h1>Plan and billing</h1>
      {!owner ? (
        <p>Only the practice's owner manages its plan and billing.</p>
      ) : sub.isPending ? (
        <Loading lines={4} />
      ) : sub.isError ? (
        billingDisabled(sub.error) ? (
          <Section title="Billing is not enabled">
            <p>This server runs without billing (self-hosted): nothing is limited and there is nothing to pay.</p>
          </Section>
        ) : (
          <LoadError error={sub.error} retry={() => sub.refetch()} />
        )
      ) : (
        <>
          {checkout === "success" && (
            <p className="banner" role="status">
              Thank you. Your subscription starts as soon as Stripe confirms the payment; this page then shows it.
            </p>
          )}
          {checkout === "cancelled" && (
            <p className="banner" role="status">
              Checkout was cancelled; nothing was charged.
            </p>
          )}
          <CurrentPlan sub={sub.data} />
          <Plans sub={sub.data} />
        </>
      )}
    </div>
  );
}

function CurrentPlan({ sub }: { sub: Subscription }) {
  const words = statusWords(sub);
  const portal = useMutation({
    mutationFn: () => unwrap(api.POST("/billing/portal-session")),
    onSuccess: (r) => go(r.url),
  });
  return (
    <Section title="Your plan" actions={<Badge tone={words.tone}>{words.badge}</Badge>}>
      <p className="plan-name">{sub.plan.name}</p>
      <p>{words.text}</p>
      <h3>Usage</h3>
      <ul className="plain usage">
        {limitNames.map(({ name, one, many }) => {
          const used = sub.usage[name];
          const limit = sub.plan.limits[name];
          const line = usageLine(used, limit, one, many);
          const over = limit !== undefined && used > limit;
          return (
            <li key={name}>
              <span>{line}</span>
              {limit !== undefined && limit > 0 && <Progress value={(used / limit) * 100} label={line} />}
              {over && <Badge tone="warn">over the plan's limit: no new ones can be added</Badge>}
            </li>
          );
        })}
      </ul>
      {sub.has_customer && (
        <div className="actions">
          <button type="button" className="secondary" disabled={portal.isPending} aria-busy={portal.isPending || undefined} onClick={() => portal.mutate()}>
            {portal.isPending ? "Opening the billing portal…" : "Manage card, plan or cancel"}
          </button>
          <FormError error={portal.error} />
        </div>
      )}
    </Section>
  );
}

function Plans({ sub }: { sub: Subscription }) {
  const plans = useQuery({ queryKey: keys.billing.plans, queryFn: () => unwrap(api.GET("/billing/plans")) });
  const paying = subscribed(sub);
  const checkout = useMutation({
    mutationFn: (planId: string) => unwrap(api.POST("/billing/checkout-session", { body: { plan_id: planId } })),
    onSuccess: (r) => go(r.url),
  });
  const portal = useMutation({
    mutationFn: (_planId: string) => unwrap(api.POST("/billing/portal-session")),
    onSuccess: (r) => go(r.url),
  });
  const action = paying ? portal : checkout;
  return (
    <Section title="Plans">
      {paying && <p className="meta">You change plans in the billing portal, where Stripe shows what the change costs.</p>}
      {plans.isPending ? (
        <Loading lines={3} />
      ) : plans.isError ? (
        <LoadError error={plans.error} retry={() => plans.refetch()} />
      ) : (
        <ul className="plan-cards">
          {plans.data.items.map((p) => (
            <PlanCard
              key={p.id}
              plan={p}
              current={p.id === sub.plan.id && (paying || sub.status === "trialing")}
              verb={paying ? "Switch to" : "Subscribe to"}
              showButton={!(paying && p.id === sub.plan.id)}
              pending={action.isPending && action.variables === p.id}
              pendingText={paying ? "Opening the billing portal…" : "Opening checkout…"}
              busy={action.isPending}
              error={action.variables === p.id ? action.error : null}
              onChoose={() => action.mutate(p.id)}
            />
          ))}
        </ul>
      )}
    </Section>
  );
}

function PlanCard(props: { plan: Plan; current: boolean; verb: string; showButton: boolean; pending: boolean; pendingText: string; busy: boolean; error: unknown; onChoose: () => void }) {
  const { plan, current } = props;
  return (
    <li className="card plan-card">
      <h3>
        {plan.name} {current && <Badge tone="ok">current plan</Badge>}
      </h3>
      <ul className="plain">
        {limitNames.map(({ name, one, many }) => (
          <li key={name}>{limitLine(plan.limits[name], one, many)}</li>
        ))}
      </ul>
      {props.showButton && (
        <button type="button" className="primary" disabled={props.busy} aria-busy={props.pending || undefined} onClick={props.onChoose}>
          {props.pending ? props.pendingText : `${props.verb} ${plan.name}`}
        </button>
      )}
      <FormError error={props.error} />
    </li>
  );
}
