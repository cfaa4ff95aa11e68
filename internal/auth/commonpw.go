package auth

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
)

// commonPasswordsGzip is a gzip-compressed list of common and breached
// passwords: one a line, lower-cased ASCII, 8 to 128 characters, sorted by
// byte value without duplicates. common_passwords.md says where it comes from
// and how to rebuild it.
//
//go:embed common_passwords.txt.gz
var commonPasswordsGzip []byte

// commonPasswordList holds the decompressed list as one string and the offset
// where each entry starts: about half the memory of a []string and a third of
// a map, for a lookup of some 18 comparisons.
type commonPasswordList struct {
	text string
	// starts[i] is where entry i begins in text; a final element, one past
	// the end of text, closes the last entry.
	starts []uint32
}

// commonPasswords decompresses the embedded list on first use, so processes
// that never check a new password (workers, CLI commands) never pay for it.
// The bytes are compiled in and tested, so a failure here is a broken build.
var commonPasswords = sync.OnceValue(func() *commonPasswordList {
	list, err := parseCommonPasswords(commonPasswordsGzip)
	if err != nil {
		panic(fmt.Sprintf("auth: embedded common password list: %v", err))
	}
	return list
})

// parseCommonPasswords decompresses gzipped, newline-separated, sorted entries.
func parseCommonPasswords(gz []byte) (*commonPasswordList, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(zr) // reading to the end verifies the checksum
	if err != nil {
		return nil, err
	}
	// string() copies into an exactly sized block, so the slack io.ReadAll
	// grew becomes garbage instead of staying reachable.
	text := strings.TrimSuffix(string(raw), "\n")
	if len(text) >= 1<<32-1 {
		return nil, fmt.Errorf("list of %d bytes is too large", len(text))
	}
	starts := make([]uint32, 1, strings.Count(text, "\n")+2)
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' {
			starts = append(starts, uint32(i+1))
		}
	}
	starts = append(starts, uint32(len(text)+1))
	return &commonPasswordList{text: text, starts: starts}, nil
}

// len reports the number of entries.
func (l *commonPasswordList) len() int { return len(l.starts) - 1 }

// at returns entry i, without its newline.
func (l *commonPasswordList) at(i int) string { return l.text[l.starts[i] : l.starts[i+1]-1] }

// contains reports whether lowered, already lower-cased, is an entry.
func (l *commonPasswordList) contains(lowered string) bool {
	_, found := sort.Find(l.len(), func(i int) int { return strings.Compare(lowered, l.at(i)) })
	return found
}

// isCommonPassword reports whether password, compared case-insensitively, is
// on the embedded list.
func isCommonPassword(password string) bool {
	return commonPasswords().contains(strings.ToLower(password))
}
