package date

import (
	"strings"
	"sync"
	"time"
)

// zones holds the time zones loaded so far, by name. time.LoadLocation
// reads and parses the zone database on every call; a zone's rules do not
// change while the process runs, and there are a few hundred names at most.
var zones sync.Map // string -> *time.Location

// Zone is the location of an IANA time zone name, UTC when the name does
// not load (a client's zone is checked when it is stored, but the zone
// database of a later host may lack it).
func Zone(name string) *time.Location {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC // not kept: a name that fails today may load after an update
	}
	zones.Store(name, loc)
	return loc
}

// ValidZone trims name and reports whether it is an IANA time zone this
// host knows: the rule for every zone Tandem stores (a client record's, a
// person's own). "Local", the empty name and unknown names are refused.
func ValidZone(name string) (string, bool) {
	name = strings.TrimSpace(name)
	if name == "" || name == "Local" {
		return name, false
	}
	if _, err := time.LoadLocation(name); err != nil {
		return name, false
	}
	return name, true
}

// ZoneMessage is the field error of a zone ValidZone refuses.
const ZoneMessage = "must be an IANA time zone such as Europe/Berlin"
