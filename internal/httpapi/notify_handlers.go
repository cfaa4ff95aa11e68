package httpapi

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/oapi-codegen/nullable"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/tandem-coach/tandem/api"
	"github.com/tandem-coach/tandem/internal/notify"
	"github.com/tandem-coach/tandem/internal/page"
	"github.com/tandem-coach/tandem/internal/patch"
	"github.com/tandem-coach/tandem/web"
)

func toAPIPreferences(p notify.Preferences) api.NotificationPreferences {
	out := api.NotificationPreferences{
		DailyDigest: p.DailyDigest, SessionReminders: p.SessionReminders, ConsentReminders: p.ConsentReminders,
		WeeklySummary: p.WeeklySummary, DigestHour: p.DigestHour, WeeklyNudgeBudget: p.WeeklyNudgeBudget,
		QuietHoursStart: nullable.NewNullNullable[string](), QuietHoursEnd: nullable.NewNullNullable[string](),
		Timezone: p.Timezone, UpdatedAt: nullableOf(p.UpdatedAt),
	}
	if p.Quiet != nil {
		out.QuietHoursStart = nullable.NewNullableWithValue(notify.FormatMinute(p.Quiet.Start))
		out.QuietHoursEnd = nullable.NewNullableWithValue(notify.FormatMinute(p.Quiet.End))
	}
	return out
}

// GetNotificationPreferences returns the caller's own preferences.
func (s *Server) GetNotificationPreferences(ctx context.Context, _ api.GetNotificationPreferencesRequestObject) (api.GetNotificationPreferencesResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.notify.Preferences(ctx, actor)
	if err != nil {
		return nil, err
	}
	etag := p.ETag()
	return api.GetNotificationPreferences200JSONResponse{Body: toAPIPreferences(p),
		Headers: api.GetNotificationPreferences200ResponseHeaders{ETag: &etag}}, nil
}

// UpdateNotificationPreferences changes the caller's own preferences.
func (s *Server) UpdateNotificationPreferences(ctx context.Context, r api.UpdateNotificationPreferencesRequestObject) (api.UpdateNotificationPreferencesResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	b := r.Body
	p, err := s.notify.UpdatePreferences(ctx, actor, notify.PreferencesChange{
		DailyDigest: patch.FromPtr(b.DailyDigest), SessionReminders: patch.FromPtr(b.SessionReminders),
		ConsentReminders: patch.FromPtr(b.ConsentReminders), WeeklySummary: patch.FromPtr(b.WeeklySummary),
		DigestHour: patch.FromPtr(b.DigestHour), WeeklyNudgeBudget: patch.FromPtr(b.WeeklyNudgeBudget),
		QuietStart: patch.FromNullable(b.QuietHoursStart), QuietEnd: patch.FromNullable(b.QuietHoursEnd),
		Timezone: patch.FromPtr(b.Timezone), IfMatch: &r.Params.IfMatch,
	})
	if err != nil {
		return nil, err
	}
	etag := p.ETag()
	return api.UpdateNotificationPreferences200JSONResponse{Body: toAPIPreferences(p),
		Headers: api.UpdateNotificationPreferences200ResponseHeaders{ETag: &etag}}, nil
}

func unsubscribedMessage(kind notify.Kind) string {
	return "You will no longer receive " + kind.Title() + ". Turn it back on in your notification preferences whenever you like."
}

// Unsubscribe turns off the kind of e-mail an e-mailed link names, from
// the page that link opens.
func (s *Server) Unsubscribe(ctx context.Context, r api.UnsubscribeRequestObject) (api.UnsubscribeResponseObject, error) {
	kind, err := s.notify.Unsubscribe(ctx, r.Body.Token)
	if err != nil {
		return nil, err
	}
	return api.Unsubscribe200JSONResponse{Kind: api.UnsubscribedKind(kind), Message: unsubscribedMessage(kind)}, nil
}

// oneClickUnsubscribe is the RFC 8058 one-click endpoint: a mail client
// POSTs "List-Unsubscribe=One-Click" to the List-Unsubscribe URL, whose
// query holds the token. It needs no sign-in and no cookie.
func (s *Server) oneClickUnsubscribe(c echo.Context) error {
	kind, err := s.notify.Unsubscribe(c.Request().Context(), c.QueryParam("token"))
	if err != nil {
		return err
	}
	return c.String(http.StatusOK, unsubscribedMessage(kind)+"\n")
}

// registerUnsubscribe adds the page of e-mailed unsubscribe links and the
// one-click endpoint at the same URL, both public.
func (s *Server) registerUnsubscribe(e *echo.Echo) {
	s.rules[http.MethodGet+" "+notify.UnsubscribePath] = RulePublic
	e.GET(notify.UnsubscribePath, web.UnsubscribePage)
	s.rules[http.MethodPost+" "+notify.UnsubscribePath] = RulePublic
	e.POST(notify.UnsubscribePath, s.oneClickUnsubscribe)
}

func toAPIMailDeliveries(list []notify.Delivery, next *string) api.MailDeliveryList {
	out := api.MailDeliveryList{Items: make([]api.MailDelivery, len(list)), NextCursor: nullableOf(next)}
	for i, d := range list {
		out.Items[i] = api.MailDelivery{Id: d.ID, Kind: d.Kind, Recipient: openapi_types.Email(d.Recipient),
			ClientId: nullableOf(d.ClientID), Status: api.MailDeliveryStatus(d.Status), Attempts: d.Attempts,
			LastError: nullableOf(d.LastError), SendAfter: d.SendAfter, SentAt: nullableOf(d.SentAt),
			CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
	}
	return out
}

// ListPracticeDeliveries returns the practice's e-mail delivery log.
func (s *Server) ListPracticeDeliveries(ctx context.Context, r api.ListPracticeDeliveriesRequestObject) (api.ListPracticeDeliveriesResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	pr, err := page.Parse(r.Params.Limit, r.Params.Cursor)
	if err != nil {
		return nil, err
	}
	f := notify.DeliveryFilter{ClientID: r.Params.ClientId}
	if r.Params.Status != nil {
		status := string(*r.Params.Status)
		f.Status = &status
	}
	list, next, err := s.notify.PracticeDeliveries(ctx, actor, f, pr)
	if err != nil {
		return nil, err
	}
	return api.ListPracticeDeliveries200JSONResponse(toAPIMailDeliveries(list, next)), nil
}

// ListMyDeliveries returns the e-mails sent to the caller's account.
func (s *Server) ListMyDeliveries(ctx context.Context, r api.ListMyDeliveriesRequestObject) (api.ListMyDeliveriesResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	pr, err := page.Parse(r.Params.Limit, r.Params.Cursor)
	if err != nil {
		return nil, err
	}
	list, next, err := s.notify.MyDeliveries(ctx, actor, pr)
	if err != nil {
		return nil, err
	}
	return api.ListMyDeliveries200JSONResponse(toAPIMailDeliveries(list, next)), nil
}
