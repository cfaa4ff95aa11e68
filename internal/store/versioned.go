package store

import (
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/apperr"
)

// ErrStale is the answer to an update based on an outdated version.
var ErrStale = apperr.New(apperr.PreconditionFailed, "The record changed since you read it; reload and try again.")

// ETag renders a row version as an HTTP entity tag.
func ETag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// ParseETag reads an If-Match value: a strong ETag holding a version ("3"),
// or * for any version (returned as -1). If-Match compares strongly (RFC
// 9110), so a weak W/"3" is refused.
func ParseETag(tag string) (int64, bool) {
	tag = strings.TrimSpace(tag)
	if tag == "*" {
		return -1, true
	}
	if len(tag) < 3 || tag[0] != '"' || tag[len(tag)-1] != '"' {
		return 0, false
	}
	v, err := strconv.ParseInt(tag[1:len(tag)-1], 10, 64)
	return v, err == nil && v >= 0
}

// UpdateVersioned applies set to the row of model's table with this practice
// and id, bumping its version and updated_at — but only when its version
// still matches ifMatch (when given). A stale ifMatch changes nothing and
// returns ErrStale. set is a map, so zero values are written, not skipped.
func UpdateVersioned(tx *gorm.DB, model any, practiceID, id uuid.UUID, ifMatch *string, set map[string]any, now time.Time) error {
	return ApplyVersioned(tx.Model(model).Where("practice_id = ? AND id = ?", practiceID, id), ifMatch, set, now)
}

// ApplyVersioned is UpdateVersioned for a row q already selects, for the
// rare table that is not scoped by practice_id (the practice itself).
func ApplyVersioned(q *gorm.DB, ifMatch *string, set map[string]any, now time.Time) error {
	set["updated_at"] = now
	set["version"] = gorm.Expr("version + 1")
	if ifMatch != nil {
		v, ok := ParseETag(*ifMatch)
		if !ok {
			return ErrStale
		}
		if v >= 0 {
			q = q.Where("version = ?", v)
		}
	}
	res := q.Updates(set)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrStale
	}
	return nil
}
