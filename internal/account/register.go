package account

import (
	"context"
	"encoding/json"
	"fmt"

	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/audit"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/input"
	"github.com/tandem-coach/tandem/internal/jobs"
	tmail "github.com/tandem-coach/tandem/internal/mail"
	"github.com/tandem-coach/tandem/internal/store"
)

// Registration is what a new practice owner sends.
type Registration struct {
	PracticeName string
	Name         string
	Email        string
	Password     string
}

// registrationPayload is a registration waiting for its address to be
// proven, because an unverified account holds the address today.
type registrationPayload struct {
	PracticeName string `json:"practice_name"`
	Name         string `json:"name"`
	PasswordHash string `json:"password_hash"`
}

// Register creates a practice and its unverified owner, and e-mails the link
// that proves the address, all in one transaction. The answer never tells
// whether the address has an account: the same work is done, and the e-mail
// is queued in the transaction whichever it is. A verified account's owner is told of the
// attempt instead; an address held only by an unverified account gets a
// link that, used, replaces that account with this registration.
func (s *Service) Register(ctx context.Context, r Registration) error {
	var fields apperr.Fields
	practiceName := input.Line(r.PracticeName, "practice_name", 200, &fields)
	name := input.Line(r.Name, "name", 200, &fields)
	email := input.Email(r.Email, "email", &fields)
	checkNewPassword(r.Password, &fields)
	if err := fields.Err(); err != nil {
		return err
	}
	hash, err := auth.HashPassword(r.Password) // slow: outside the transaction, and in every case
	if err != nil {
		return err
	}

	err = s.db.Tx(ctx, func(tx *gorm.DB) error {
		var msg jobs.Mail
		existing, err := s.userByEmail(tx, email)
		if err != nil {
			return err
		}
		switch {
		case existing.ID == nilID:
			u, _, err := s.createPractice(ctx, tx, practiceName, name, email, hash, false)
			if err != nil {
				return err
			}
			token, id, err := s.newEmailToken(tx, purposeVerify, &u.ID, email, nil, verifyTTL)
			if err != nil {
				return err
			}
			msg = jobs.Mail{Key: jobs.Key("verify-email", id), Message: verifyMail(email, s.linkURL(VerifyPath, token))}
		case existing.EmailVerifiedAt != nil:
			msg = jobs.Mail{Key: jobs.Key("already-registered", newID()), Message: alreadyRegisteredMail(email, s.baseURL)}
		default:
			raw, err := json.Marshal(registrationPayload{PracticeName: practiceName, Name: name, PasswordHash: hash})
			if err != nil {
				return err
			}
			payload := string(raw)
			token, id, err := s.newEmailToken(tx, purposeRegistration, nil, email, &payload, verifyTTL)
			if err != nil {
				return err
			}
			msg = jobs.Mail{Key: jobs.Key("verify-email", id), Message: verifyMail(email, s.linkURL(VerifyPath, token))}
		}
		// Every branch queues one e-mail in the transaction: the same
		// work, whether or not the address has an account.
		return s.enqueue(ctx, tx, msg)
	})
	if store.IsUniqueViolation(err) {
		// A concurrent registration took the address: answer as for any
		// address that has an account.
		return nil
	}
	return err
}

// createPractice creates a practice with its owner, audited, and returns the
// owner and the practice. verified is set when the owner's address is
// already proven.
func (s *Service) createPractice(ctx context.Context, tx *gorm.DB, practiceName, name, email, hash string, verified bool) (userRow, practiceRow, error) {
	now := s.clock.Now()
	p := practiceRow{ID: newID(), Name: practiceName, Version: 1, CreatedAt: now, UpdatedAt: now}
	u := userRow{ID: newID(), Email: email, Name: name, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	if verified {
		u.EmailVerifiedAt = &now
	}
	m := membershipRow{ID: newID(), PracticeID: p.ID, UserID: u.ID, Role: string(auth.RoleOwner), CreatedAt: now}
	if err := tx.Create(&p).Error; err != nil {
		return userRow{}, practiceRow{}, err
	}
	if err := tx.Create(&u).Error; err != nil {
		return userRow{}, practiceRow{}, err
	}
	if err := tx.Create(&m).Error; err != nil {
		return userRow{}, practiceRow{}, err
	}
	return u, p, audit.Record(ctx, tx, audit.Entry{PracticeID: p.ID, Actor: u.ID, Action: "practice.registered",
		RecordType: "practice", RecordID: p.ID, At: now})
}

func verifyMail(to, link string) tmail.Message {
	return tmail.Message{
		To:      to,
		Subject: "Confirm your e-mail address for Tandem",
		Text: fmt.Sprintf("Hello,\n\nPlease confirm that this is your e-mail address by opening this link "+
			"(it works once, within %d hours):\n\n%s\n\n"+
			"Until you do, your account cannot invite anyone or take part in a consent.\n\n"+
			"If you did not sign up for Tandem, ignore this e-mail: nothing happens without the link.\n",
			int(verifyTTL.Hours()), link),
	}
}

func alreadyRegisteredMail(to, baseURL string) tmail.Message {
	return tmail.Message{
		To:      to,
		Subject: "Someone tried to sign up for Tandem with your address",
		Text: "Hello,\n\nSomeone, perhaps you, tried to create a new Tandem account with this e-mail address. " +
			"You already have one, so nothing was created.\n\n" +
			"Log in at " + baseURL + "/ , or reset your password there if you forgot it.\n\n" +
			"If it was not you, you need not do anything.\n",
	}
}
