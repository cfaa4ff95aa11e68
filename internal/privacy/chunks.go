package privacy

import (
	"context"
	"database/sql"
	"errors"
	"io"

	"github.com/google/uuid"

	"github.com/tandem-coach/tandem/internal/store"
)

// ChunkSize is the size of the pieces an archive is stored in: what is
// held in memory at once while an archive is written or read.
const ChunkSize = 256 << 10

// chunkWriter stores what is written to it as export_chunks rows of
// ChunkSize bytes, each written as soon as it is full. Storing the archive
// in the database keeps it in the same backups, on the same access rules
// and in the same transactions as the rest, on both databases, with nothing
// to clean up on a disk; pieces keep both sides' memory bounded.
type chunkWriter struct {
	ctx      context.Context
	st       *store.Store
	exportID uuid.UUID
	buf      []byte
	seq      int
	size     int64
}

func newChunkWriter(ctx context.Context, st *store.Store, exportID uuid.UUID) *chunkWriter {
	return &chunkWriter{ctx: ctx, st: st, exportID: exportID, buf: make([]byte, 0, ChunkSize)}
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		k := min(len(p), ChunkSize-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p, n = p[k:], n+k
		if len(w.buf) == ChunkSize {
			if err := w.flush(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

func (w *chunkWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	err := w.st.DB.WithContext(w.ctx).Exec("INSERT INTO export_chunks (export_id, seq, data) VALUES (?, ?, ?)",
		w.exportID, w.seq, w.buf).Error
	if err != nil {
		return err
	}
	w.size += int64(len(w.buf))
	w.seq++
	w.buf = w.buf[:0]
	return nil
}

// Close stores what is left.
func (w *chunkWriter) Close() error { return w.flush() }

// ArchiveReader reads a stored archive piece by piece; at the end it
// deletes the pieces (the export is spent).
type ArchiveReader struct {
	ctx      context.Context
	st       *store.Store
	exportID uuid.UUID
	seq      int
	cur      []byte
	done     bool
}

func newArchiveReader(ctx context.Context, st *store.Store, exportID uuid.UUID) *ArchiveReader {
	return &ArchiveReader{ctx: ctx, st: st, exportID: exportID}
}

// Size is the archive's size in bytes, without reading it.
func (r *ArchiveReader) Size() (int64, error) {
	var n sql.NullInt64
	err := r.st.DB.WithContext(r.ctx).Table("exports").Select("size_bytes").Where("id = ?", r.exportID).Row().Scan(&n)
	return n.Int64, err
}

func (r *ArchiveReader) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		if r.done {
			return 0, io.EOF
		}
		var data []byte
		err := r.st.DB.WithContext(r.ctx).Table("export_chunks").Select("data").
			Where("export_id = ? AND seq = ?", r.exportID, r.seq).Row().Scan(&data)
		if errors.Is(err, sql.ErrNoRows) {
			r.done = true
			r.discard()
			continue
		}
		if err != nil {
			return 0, err
		}
		r.cur, r.seq = data, r.seq+1
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

// discard deletes the pieces of an archive read to its end. Failing that,
// the periodic clean-up does it.
func (r *ArchiveReader) discard() {
	_ = r.st.DB.WithContext(context.WithoutCancel(r.ctx)).Exec("DELETE FROM export_chunks WHERE export_id = ?", r.exportID).Error
}
