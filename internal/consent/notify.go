package consent

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/jobs"
	tmail "github.com/tandem-coach/tandem/internal/mail"
)

// Parties names who a consent involves, for e-mails and the FHIR resource.
type Parties struct {
	ClientName   string
	PracticeName string
	// CoachName is the coach who discloses: the client's coach when the
	// consent was signed or requested.
	CoachName string
	// CurrentCoachName and CurrentCoachEmail are the client's coach now,
	// who is told of every transition.
	CurrentCoachName  string
	CurrentCoachEmail string
}

// loadParties reads the names a consent's e-mails and FHIR resource show.
func loadParties(tx *gorm.DB, r consentRow) (Parties, error) {
	var p Parties
	err := tx.Table("clients AS c").
		Select("c.name AS client_name, p.name AS practice_name, d.name AS coach_name, "+
			"u.name AS current_coach_name, u.email AS current_coach_email").
		Joins("JOIN practices p ON p.id = c.practice_id").
		Joins("JOIN users d ON d.id = ?", r.CoachID).
		Joins("JOIN users u ON u.id = c.coach_id").
		Where("c.practice_id = ? AND c.id = ?", r.PracticeID, r.ClientID).
		Take(&p).Error
	return p, err
}

// enqueue queues e-mails in tx, the transaction of the transition that
// causes them: they go out if and only if it commits, and the job queue
// tries again when the mail server fails. Nothing in the transition
// depends on the e-mail arriving.
// The delivery log files them under r's practice and client.
func (s *Service) enqueue(ctx context.Context, tx *gorm.DB, r consentRow, msgs ...jobs.Mail) error {
	for i := range msgs {
		msgs[i].PracticeID, msgs[i].ClientID = r.PracticeID, r.ClientID
	}
	return jobs.EnqueueMail(ctx, s.c.Store, tx, msgs...)
}

// classTitles says in plain words what each data class shares.
var classTitles = map[Class]string{
	Goals:             "goals and their progress",
	ActionSteps:       "action steps and when they were completed",
	SessionAttendance: "session dates and attendance",
	SessionSummaries:  "shared session summaries",
	CoordinationNotes: "coordination notes between coach and therapist",
}

func describeClasses(cs Classes) string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = classTitles[c]
	}
	return strings.Join(out, "; ")
}

func mailDate(t time.Time) string { return t.UTC().Format("2 January 2006 15:04 MST") }

// signedMail tells the client's coach that the client signed.
func signedMail(p Parties, c Consent, supersedes bool) tmail.Message {
	state := "It waits for the therapist to accept the invitation Tandem sent them."
	if c.Status == StatusActive {
		state = "The therapist already has a Tandem account: the consent is active now."
	}
	if supersedes {
		state += "\nIt replaces the client's earlier consent for this therapist."
	}
	return tmail.Message{
		To:      p.CurrentCoachEmail,
		Subject: fmt.Sprintf("%s signed a consent to share with %s", p.ClientName, c.TherapistName),
		Text: fmt.Sprintf("Hello %s,\n\n%s has signed a consent on Tandem to share coaching information with their "+
			"therapist, %s.\n\nShared: %s.\nValid until: %s.\n%s\n\n"+
			"Tandem records every time the therapist views the client's data, and the client may revoke the consent at any time.\n",
			p.CurrentCoachName, p.ClientName, c.TherapistName, describeClasses(c.Classes), mailDate(c.ExpiresAt), state),
	}
}

// activatedMail tells the client's coach that the therapist accepted.
func activatedMail(p Parties, c Consent) tmail.Message {
	return tmail.Message{
		To:      p.CurrentCoachEmail,
		Subject: fmt.Sprintf("%s accepted %s's consent", c.TherapistName, p.ClientName),
		Text: fmt.Sprintf("Hello %s,\n\n%s has accepted the consent %s signed on Tandem. The consent is active: "+
			"the therapist can see %s until %s, unless the client revokes it first.\n",
			p.CurrentCoachName, c.TherapistName, p.ClientName, describeClasses(c.Classes), mailDate(c.ExpiresAt)),
	}
}

// revokedMail tells the client's coach that the client revoked.
func revokedMail(p Parties, c Consent) tmail.Message {
	return tmail.Message{
		To:      p.CurrentCoachEmail,
		Subject: fmt.Sprintf("%s revoked the consent for %s", p.ClientName, c.TherapistName),
		Text: fmt.Sprintf("Hello %s,\n\n%s has revoked their consent to share coaching information with %s. "+
			"From now on the therapist sees nothing more of the client's coaching record, and coordination "+
			"through Tandem ends until the client signs a new consent.\n",
			p.CurrentCoachName, p.ClientName, c.TherapistName),
	}
}

// declinedMail tells the client's coach that the therapist declined.
func declinedMail(p Parties, c Consent) tmail.Message {
	return tmail.Message{
		To:      p.CurrentCoachEmail,
		Subject: fmt.Sprintf("%s declined %s's consent", c.TherapistName, p.ClientName),
		Text: fmt.Sprintf("Hello %s,\n\n%s has declined the consent %s signed on Tandem. Nothing of the client's "+
			"coaching record is shared with them.\n", p.CurrentCoachName, c.TherapistName, p.ClientName),
	}
}

// invitationMail invites the therapist a consent names to accept it, with
// their account or a new one. The subject names nobody: a sender cannot
// choose the subject line of mail Tandem sends to strangers.
func invitationMail(p Parties, c Consent, acceptURL string, until time.Time) tmail.Message {
	return tmail.Message{
		To:      c.TherapistEmail,
		Subject: "A client shares coaching information with you on Tandem",
		Text: fmt.Sprintf("Hello %s,\n\n%s, a client of %s (%s), has signed a consent on Tandem to share parts of their "+
			"coaching record with you, so that you and their coach can coordinate on their behalf.\n\n"+
			"Shared: %s.\nValid until: %s.\n\n"+
			"Open this link to accept, with your Tandem account or a new one (it works once and expires on %s):\n\n%s\n\n"+
			"The client may revoke the consent at any time. If you do not know this person, ignore this e-mail.\n",
			c.TherapistName, p.ClientName, p.CoachName, p.PracticeName, describeClasses(c.Classes), mailDate(c.ExpiresAt),
			mailDate(until), acceptURL),
	}
}
