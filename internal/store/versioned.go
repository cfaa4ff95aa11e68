package store

import (
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/apperr"
)

// ErrStale is the answer to an update based on an outdated version.
var ErrStale = apperr.New(apperr.PreconditionFailed, "The record changed since you read it; reload and try again.")

// AnyVersion tells UpdateVersioned to change the row whatever its version.
const AnyVersion int64 = -1

// ETag renders a record as a strong HTTP entity tag: its row version, and,
// when what callers see of it also shows values computed from other rows or
// from the clock (a goal's progress, a step being overdue), a digest of
// those. The tag therefore changes exactly when the representation can, so
// If-None-Match never answers 304 for a copy that is out of date, and an
// If-Match based on it is refused when the caller decided on values that
// have since changed.
func ETag(version int64, derived ...string) string {
	v := strconv.FormatInt(version, 10)
	if len(derived) == 0 {
		return `"` + v + `"`
	}
	h := sha256.New()
	for _, d := range derived {
		h.Write([]byte(d))
		h.Write([]byte{0})
	}
	return `"` + v + "-" + base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:9]) + `"`
}

// CheckIfMatch applies an If-Match field value (RFC 9110 §13.1.1) to a
// record whose current entity tag is current: nil (no precondition), "*",
// or a list naming current hold; anything else, weak tags included (If-Match
// compares strongly), is ErrStale.
func CheckIfMatch(ifMatch *string, current string) error {
	if ifMatch == nil {
		return nil
	}
	if strings.TrimSpace(*ifMatch) == "*" {
		return nil
	}
	for _, tag := range strings.Split(*ifMatch, ",") {
		if strings.TrimSpace(tag) == current {
			return nil
		}
	}
	return ErrStale
}

// UpdateVersioned applies set to the row of model's table with this practice
// and id, bumping its version and updated_at — but only while its version
// is still expect (AnyVersion: whatever it is). A row changed meanwhile is
// left alone and ErrStale returned. set is a map, so zero values are
// written, not skipped.
func UpdateVersioned(tx *gorm.DB, model any, practiceID, id uuid.UUID, expect int64, set map[string]any, now time.Time) error {
	return ApplyVersioned(tx.Model(model).Where("practice_id = ? AND id = ?", practiceID, id), expect, set, now)
}

// ApplyVersioned is UpdateVersioned for a row q already selects, for the
// rare table that is not scoped by practice_id (the practice itself).
func ApplyVersioned(q *gorm.DB, expect int64, set map[string]any, now time.Time) error {
	set["updated_at"] = now
	set["version"] = gorm.Expr("version + 1")
	if expect != AnyVersion {
		q = q.Where("version = ?", expect)
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
