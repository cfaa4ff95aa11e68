package date

import (
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
