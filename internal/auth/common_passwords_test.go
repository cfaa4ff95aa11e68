package auth

import (
	"runtime"
	"testing"
)

// TestCommonPasswordsHeap logs what the decompressed list keeps on the heap,
// for the figure in common_passwords.md; run it with -v to see it.
func TestCommonPasswordsHeap(t *testing.T) {
	before := retainedHeap()
	list, err := parseCommonPasswords(commonPasswordsGzip)
	if err != nil {
		t.Fatal(err)
	}
	after := retainedHeap()
	t.Logf("%d entries, %d bytes of text: %.2f MiB retained on the heap (embedded gzip: %d bytes)",
		list.len(), len(list.text), float64(int64(after)-int64(before))/(1<<20), len(commonPasswordsGzip))
	runtime.KeepAlive(list)
}

func BenchmarkParseCommonPasswords(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseCommonPasswords(commonPasswordsGzip); err != nil {
			b.Fatal(err)
		}
	}
}

func retainedHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
