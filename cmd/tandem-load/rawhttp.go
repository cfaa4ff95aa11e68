package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync/atomic"
	"time"
)

// The workers speak HTTP/1.1 by hand on one keep-alive connection each:
// they write a request prepared in advance and read the answer with a
// buffered reader, discarding the body. net/http's client costs a few
// hundred microseconds of CPU per request (two goroutines per connection,
// a Response and its header map), which on a small machine is taken from
// the server being measured; this costs a fraction of that and allocates
// nothing per request.

// requestTimeout bounds one request, so that a server that stops answering
// does not hang the driver.
const requestTimeout = 60 * time.Second

// errSampleSize is how much of a failed answer's body is kept to show.
const errSampleSize = 300

// wire is one worker's connection to a server of addrs, dialled when first
// needed and again after an error or a "Connection: close". It keeps to
// one server, addrs[0] first, and moves to the next only when a dial
// fails, as a load balancer takes a dead replica out of rotation.
type wire struct {
	addrs []string
	cur   int
	conn  atomic.Pointer[net.Conn] // read by abort from another goroutine
	br    *bufio.Reader
}

// answer is what came back for one request.
type answer struct {
	code int   // 0: no answer (a connection or protocol error)
	size int64 // body bytes
}

// roundTrip writes req and reads the whole answer. A failure's body, up to
// errSampleSize bytes, is appended to sample.
func (wi *wire) roundTrip(ctx context.Context, req []byte, sample []byte) (answer, []byte, error) {
	c, err := wi.dial(ctx)
	if err != nil {
		return answer{}, sample, err
	}
	_ = c.SetDeadline(time.Now().Add(requestTimeout))
	if _, err := c.Write(req); err != nil {
		wi.close()
		return answer{}, sample, err
	}
	a, keep, sample, err := readAnswer(wi.br, sample)
	if err != nil || !keep {
		wi.close()
	}
	return a, sample, err
}

func (wi *wire) dial(ctx context.Context) (net.Conn, error) {
	if c := wi.conn.Load(); c != nil {
		return *c, nil
	}
	var (
		d   net.Dialer
		c   net.Conn
		err error
	)
	for range wi.addrs {
		if c, err = d.DialContext(ctx, "tcp", wi.addrs[wi.cur]); err == nil {
			break
		}
		wi.cur = (wi.cur + 1) % len(wi.addrs)
	}
	if err != nil {
		return nil, err
	}
	wi.conn.Store(&c)
	if wi.br == nil {
		wi.br = bufio.NewReaderSize(c, 64<<10)
	} else {
		wi.br.Reset(c)
	}
	return c, nil
}

func (wi *wire) close() {
	if c := wi.conn.Swap(nil); c != nil {
		_ = (*c).Close()
	}
}

// abort unblocks a request in flight (on Ctrl-C).
func (wi *wire) abort() {
	if c := wi.conn.Load(); c != nil {
		_ = (*c).SetDeadline(time.Now())
	}
}

var errProtocol = errors.New("malformed HTTP answer")

// readAnswer reads a status line, the headers and the body (by
// Content-Length, chunked, or none for 204 and 304), and reports whether
// the connection may carry another request.
func readAnswer(br *bufio.Reader, sample []byte) (a answer, keep bool, _ []byte, err error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return a, false, sample, err
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return a, false, sample, errProtocol
	}
	code := 0
	for _, d := range line[9:12] {
		if d < '0' || d > '9' {
			return a, false, sample, errProtocol
		}
		code = 10*code + int(d-'0')
	}
	length, chunked, keep := int64(-1), false, true
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return a, false, sample, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return a, false, sample, errProtocol
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.ParseInt(string(value), 10, 64); err != nil {
				return a, false, sample, errProtocol
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.Contains(bytes.ToLower(value), []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			keep = !bytes.EqualFold(value, []byte("close"))
		}
	}
	a.code = code
	body := bodyReader{br: br, keepSample: code/100 != 2, sample: sample}
	switch {
	case code == 204 || code == 304 || code/100 == 1:
	case chunked:
		err = body.chunked()
	case length >= 0:
		err = body.consume(length)
	default: // the body runs to the end of the connection
		err, keep = body.toEOF(), false
	}
	return answer{code: code, size: body.n}, keep, body.sample, err
}

// bodyReader discards a body, keeping the start of a failure's.
type bodyReader struct {
	br         *bufio.Reader
	n          int64
	keepSample bool
	sample     []byte
}

func (b *bodyReader) consume(n int64) error {
	if b.keepSample && len(b.sample) < errSampleSize && n > 0 {
		peek, _ := b.br.Peek(int(min(n, int64(errSampleSize-len(b.sample)), int64(b.br.Size()))))
		b.sample = append(b.sample, peek...)
	}
	m, err := b.br.Discard(int(n))
	b.n += int64(m)
	return err
}

func (b *bodyReader) chunked() error {
	for {
		line, err := b.br.ReadSlice('\n')
		if err != nil {
			return err
		}
		sizeText, _, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(";"))
		size, err := strconv.ParseInt(string(sizeText), 16, 64)
		if err != nil {
			return errProtocol
		}
		if size == 0 {
			for { // trailers, up to the empty line
				line, err := b.br.ReadSlice('\n')
				if err != nil {
					return err
				}
				if len(bytes.TrimRight(line, "\r\n")) == 0 {
					return nil
				}
			}
		}
		if err := b.consume(size); err != nil {
			return err
		}
		if _, err := b.br.Discard(2); err != nil { // the chunk's CRLF
			return err
		}
	}
}

func (b *bodyReader) toEOF() error {
	for {
		err := b.consume(int64(b.br.Size()))
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// appendRequest appends an HTTP/1.1 request to buf. body, when not nil, is
// sent as JSON.
func appendRequest(buf []byte, method, host, path, authorization string, body []byte) []byte {
	buf = append(buf, method...)
	buf = append(buf, ' ')
	buf = append(buf, path...)
	buf = append(buf, " HTTP/1.1\r\nHost: "...)
	buf = append(buf, host...)
	buf = append(buf, "\r\nUser-Agent: tandem-load\r\nAuthorization: "...)
	buf = append(buf, authorization...)
	if body != nil {
		buf = append(buf, "\r\nContent-Type: application/json\r\nContent-Length: "...)
		buf = strconv.AppendInt(buf, int64(len(body)), 10)
	}
	buf = append(buf, "\r\n\r\n"...)
	return append(buf, body...)
}

// requestLine is the first line of a request, to name it in a failure.
func requestLine(req []byte) string {
	line, _, _ := bytes.Cut(req, []byte("\r\n"))
	return fmt.Sprintf("%.200s", line)
}
