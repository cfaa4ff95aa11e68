package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The reference: a deliberately minimal server for one endpoint, a
// client's first page of open steps, on PostgreSQL. It runs the statement
// Tandem's service runs for that list (goals.ListClientSteps as of this
// writing: the client's row as the actor may see it, left joined to the
// page of its steps) and writes the same JSON, byte for byte, but has no
// framework, no authentication, no request validation, no ORM, no access
// log. Tandem ÷ reference is then what everything else costs. The
// driver checks before measuring that both answer the same bytes, and
// warns when Tandem's statements no longer match referenceSQL.
//
// It runs as `tandem-load reference -addr ... -pg ... -practice ...`, a
// subprocess of the driver, so that /proc shows its own CPU and memory.

// referenceSQL is the statement Tandem sends for GET
// /clients/{client_id}/action-steps?status=...&limit=... by a client with
// a portal account ($1 status, $2 practice, $3 the actor's client, $4 the
// path's client, $5 limit+1), as GORM builds it for PostgreSQL.
const referenceSQL = `SELECT clients.timezone, action_steps.id,
	COALESCE(action_steps.goal_id, clients.id), COALESCE(action_steps.client_id, clients.id),
	COALESCE(action_steps.title, ''), action_steps.details, action_steps.due_date,
	COALESCE(action_steps.recurrence, ''), COALESCE(action_steps.status, ''), action_steps.completed_at,
	action_steps.reflection, action_steps.next_occurrence_id, COALESCE(action_steps.version, 0),
	action_steps.created_at, action_steps.updated_at FROM "clients" LEFT JOIN action_steps ON action_steps.practice_id = clients.practice_id AND action_steps.client_id = clients.id AND action_steps.status = $1 WHERE clients.practice_id = $2 AND clients.id = $3 AND clients.id = $4 ORDER BY action_steps.id LIMIT $5`

// refStep is api.ActionStep as encoding/json writes it: the same fields in
// the same order, a nil pointer for a null.
type refStep struct {
	ClientID         uuid.UUID  `json:"client_id"`
	CompletedAt      *time.Time `json:"completed_at"`
	CreatedAt        time.Time  `json:"created_at"`
	Details          *string    `json:"details"`
	DueDate          *string    `json:"due_date"`
	GoalID           uuid.UUID  `json:"goal_id"`
	ID               uuid.UUID  `json:"id"`
	NextOccurrenceID *uuid.UUID `json:"next_occurrence_id"`
	Overdue          bool       `json:"overdue"`
	Recurrence       string     `json:"recurrence"`
	Reflection       *string    `json:"reflection"`
	Status           string     `json:"status"`
	Title            string     `json:"title"`
	UpdatedAt        time.Time  `json:"updated_at"`
}

// refStepList is api.ActionStepList.
type refStepList struct {
	Items      []refStep `json:"items"`
	NextCursor *string   `json:"next_cursor"`
}

// reference serves the list for the clients of one practice.
type reference struct {
	pool       *pgxpool.Pool
	practiceID uuid.UUID
	zones      sync.Map // time zone name -> *time.Location
}

// runReference is the reference subcommand.
func runReference(args []string) error {
	fs := flag.NewFlagSet("reference", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8090", "listen address")
	pgURL := fs.String("pg", "", "the PostgreSQL database Tandem uses")
	practice := fs.String("practice", "", "the practice of the clients whose steps it lists")
	if err := fs.Parse(args); err != nil {
		return err
	}
	practiceID, err := uuid.Parse(*practice)
	if err != nil || *pgURL == "" {
		return errors.New("usage: tandem-load reference -addr host:port -pg postgres://... -practice <uuid>")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	cfg, err := pgxpool.ParseConfig(*pgURL)
	if err != nil {
		return err
	}
	cfg.MaxConns = 20 // as many as Tandem's pool opens
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	ref := &reference{pool: pool, practiceID: practiceID}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/clients/{client_id}/action-steps", ref.listSteps)
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := pool.Ping(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		}
	})
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 120 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.ListenAndServe() }()
	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// listSteps answers GET /api/v1/clients/{client_id}/action-steps?status=&limit=
// as the client named in the path, reading their own steps.
func (ref *reference) listSteps(w http.ResponseWriter, r *http.Request) {
	clientID, err := uuid.Parse(r.PathValue("client_id"))
	status := r.URL.Query().Get("status")
	limit, limitErr := strconv.Atoi(r.URL.Query().Get("limit"))
	if r.URL.Query().Get("limit") == "" {
		limit, limitErr = 50, nil
	}
	if err != nil || status == "" || limitErr != nil || limit < 1 || limit > 200 {
		http.Error(w, "want a client ID, status and a limit from 1 to 200", http.StatusBadRequest)
		return
	}
	list, found, err := ref.query(r.Context(), clientID, status, limit)
	switch {
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	case !found:
		http.NotFound(w, r)
		return
	}
	var buf bytes.Buffer // as the generated strict handler does
	if err := json.NewEncoder(&buf).Encode(list); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = buf.WriteTo(w)
}

// query reads one page of the client's steps in status; found is false
// when the client is not one the actor may see.
func (ref *reference) query(ctx context.Context, clientID uuid.UUID, status string, limit int) (refStepList, bool, error) {
	rows, err := ref.pool.Query(ctx, referenceSQL, status, ref.practiceID, clientID, clientID, limit+1)
	if err != nil {
		return refStepList{}, false, err
	}
	defer rows.Close()
	now := time.Now()
	list := refStepList{Items: make([]refStep, 0, limit+1)}
	found := false
	for rows.Next() {
		var (
			s        refStep
			timezone string
			id       *uuid.UUID
			version  int64
			due      *time.Time
			created  *time.Time
			updated  *time.Time
		)
		if err := rows.Scan(&timezone, &id, &s.GoalID, &s.ClientID, &s.Title, &s.Details, &due, &s.Recurrence,
			&s.Status, &s.CompletedAt, &s.Reflection, &s.NextOccurrenceID, &version, &created, &updated); err != nil {
			return refStepList{}, false, err
		}
		found = true
		if id == nil { // the client has no such step
			continue
		}
		s.ID, s.CreatedAt, s.UpdatedAt = *id, *created, *updated
		if due != nil {
			d := due.Format(time.DateOnly)
			s.DueDate = &d
			// Open and due before today in the client's time zone
			// (YYYY-MM-DD strings sort as the dates do).
			s.Overdue = s.Status == "open" && d < now.In(ref.zone(timezone)).Format(time.DateOnly)
		}
		list.Items = append(list.Items, s)
	}
	if err := rows.Err(); err != nil {
		return refStepList{}, false, err
	}
	if len(list.Items) > limit {
		list.Items = list.Items[:limit]
		// Tandem's cursor: the last ID of the page (internal/page).
		c := base64.RawURLEncoding.EncodeToString([]byte("v1:" + list.Items[limit-1].ID.String()))
		list.NextCursor = &c
	}
	return list, found, nil
}

// zone loads a time zone once.
func (ref *reference) zone(name string) *time.Location {
	if loc, ok := ref.zones.Load(name); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc = time.UTC
	}
	ref.zones.Store(name, loc)
	return loc
}

// referenceMain is the entry point of the reference subprocess.
func referenceMain(args []string) {
	if err := runReference(args); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "tandem-load reference:", err)
		os.Exit(1)
	}
}
