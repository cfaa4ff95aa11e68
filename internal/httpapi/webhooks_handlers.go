package httpapi

import (
	"context"

	"github.com/tandem-coach/tandem/api"
	"github.com/tandem-coach/tandem/internal/page"
	"github.com/tandem-coach/tandem/internal/patch"
	"github.com/tandem-coach/tandem/internal/webhooks"
)

func toAPIWebhook(e webhooks.Endpoint) api.Webhook {
	types := make([]api.WebhookEventType, len(e.EventTypes))
	for i, t := range e.EventTypes {
		types[i] = api.WebhookEventType(t)
	}
	return api.Webhook{Id: e.ID, Url: e.URL, Description: nullableOf(e.Description), EventTypes: types,
		Enabled: e.Enabled, DisabledAt: nullableOf(e.DisabledAt), DisabledReason: nullableOf(e.DisabledReason),
		CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
}

func toAPIWebhookDelivery(d webhooks.Delivery) api.WebhookDelivery {
	return api.WebhookDelivery{Id: d.ID, EventType: api.WebhookEventType(d.EventType), Status: api.WebhookDeliveryStatus(d.Status),
		Attempts: d.Attempts, ResponseCode: nullableOf(d.ResponseCode), LastError: nullableOf(d.LastError),
		LastAttemptAt: nullableOf(d.LastAttemptAt), DeliveredAt: nullableOf(d.DeliveredAt), CreatedAt: d.CreatedAt}
}

func fromAPIEventTypes(types []api.WebhookEventType) []string {
	out := make([]string, len(types))
	for i, t := range types {
		out[i] = string(t)
	}
	return out
}

// ListWebhooks lists the practice's webhook endpoints.
func (s *Server) ListWebhooks(ctx context.Context, r api.ListWebhooksRequestObject) (api.ListWebhooksResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	pr, err := page.Parse(r.Params.Limit, r.Params.Cursor)
	if err != nil {
		return nil, err
	}
	list, next, err := s.webhooks.List(ctx, actor, pr)
	if err != nil {
		return nil, err
	}
	out := api.WebhookList{Items: make([]api.Webhook, len(list)), NextCursor: nullableOf(next)}
	for i, e := range list {
		out.Items[i] = toAPIWebhook(e)
	}
	return api.ListWebhooks200JSONResponse(out), nil
}

// CreateWebhook registers an endpoint; the answer holds its secret, once.
func (s *Server) CreateWebhook(ctx context.Context, r api.CreateWebhookRequestObject) (api.CreateWebhookResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	e, secret, err := s.webhooks.Create(ctx, actor, webhooks.NewEndpoint{
		URL: r.Body.Url, Description: r.Body.Description, EventTypes: fromAPIEventTypes(r.Body.EventTypes)})
	if err != nil {
		return nil, err
	}
	w := toAPIWebhook(e)
	etag := e.ETag()
	return api.CreateWebhook201JSONResponse{
		Body: api.WebhookWithSecret{Id: w.Id, Url: w.Url, Description: w.Description, EventTypes: w.EventTypes,
			Enabled: w.Enabled, DisabledAt: w.DisabledAt, DisabledReason: w.DisabledReason,
			CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt, Secret: secret},
		Headers: api.CreateWebhook201ResponseHeaders{ETag: &etag, Location: href("practice/webhooks", e.ID)},
	}, nil
}

// GetWebhook returns one endpoint.
func (s *Server) GetWebhook(ctx context.Context, r api.GetWebhookRequestObject) (api.GetWebhookResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	e, err := s.webhooks.Get(ctx, actor, r.WebhookId)
	if err != nil {
		return nil, err
	}
	etag := e.ETag()
	return api.GetWebhook200JSONResponse{Body: toAPIWebhook(e), Headers: api.GetWebhook200ResponseHeaders{ETag: &etag}}, nil
}

// UpdateWebhook changes an endpoint.
func (s *Server) UpdateWebhook(ctx context.Context, r api.UpdateWebhookRequestObject) (api.UpdateWebhookResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	change := webhooks.Change{
		URL:         patch.FromPtr(r.Body.Url),
		Description: patch.FromNullable(r.Body.Description),
		Enabled:     patch.FromPtr(r.Body.Enabled),
		IfMatch:     &r.Params.IfMatch,
	}
	if r.Body.EventTypes != nil {
		change.EventTypes = patch.Of(fromAPIEventTypes(*r.Body.EventTypes))
	}
	e, err := s.webhooks.Update(ctx, actor, r.WebhookId, change)
	if err != nil {
		return nil, err
	}
	etag := e.ETag()
	return api.UpdateWebhook200JSONResponse{Body: toAPIWebhook(e), Headers: api.UpdateWebhook200ResponseHeaders{ETag: &etag}}, nil
}

// DeleteWebhook deletes an endpoint and its delivery log.
func (s *Server) DeleteWebhook(ctx context.Context, r api.DeleteWebhookRequestObject) (api.DeleteWebhookResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.webhooks.Delete(ctx, actor, r.WebhookId, &r.Params.IfMatch); err != nil {
		return nil, err
	}
	return api.DeleteWebhook204Response{}, nil
}

// ListWebhookDeliveries lists an endpoint's deliveries, newest first.
func (s *Server) ListWebhookDeliveries(ctx context.Context, r api.ListWebhookDeliveriesRequestObject) (api.ListWebhookDeliveriesResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	pr, err := page.Parse(r.Params.Limit, r.Params.Cursor)
	if err != nil {
		return nil, err
	}
	list, next, err := s.webhooks.Deliveries(ctx, actor, r.WebhookId, pr)
	if err != nil {
		return nil, err
	}
	out := api.WebhookDeliveryList{Items: make([]api.WebhookDelivery, len(list)), NextCursor: nullableOf(next)}
	for i, d := range list {
		out.Items[i] = toAPIWebhookDelivery(d)
	}
	return api.ListWebhookDeliveries200JSONResponse(out), nil
}

// ReplayWebhookDelivery sends a delivery again.
func (s *Server) ReplayWebhookDelivery(ctx context.Context, r api.ReplayWebhookDeliveryRequestObject) (api.ReplayWebhookDeliveryResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	d, err := s.webhooks.Replay(ctx, actor, r.WebhookId, r.DeliveryId)
	if err != nil {
		return nil, err
	}
	return api.ReplayWebhookDelivery202JSONResponse(toAPIWebhookDelivery(d)), nil
}
