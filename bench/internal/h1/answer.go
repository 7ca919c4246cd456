package h1

import (
	"bytes"
	"errors"
	"fmt"
)

// Answer is one HTTP/1.x answer parsed from the front of a buffer.
type Answer struct {
	Code    int
	Body    []byte // the body; for a chunked answer, assembled in the scratch given to ParseAnswer
	Closing bool   // the server ends the connection after it
	Chunked bool   // Body is in the scratch given to ParseAnswer
}

// errNoLength says an answer's body runs to the end of the connection,
// which the loop does not read (Rung's server always sends a length or
// chunks).
var errNoLength = errors.New("an answer without Content-Length or chunked encoding")

// ParseAnswer reads one whole answer from the front of b. It returns n = 0
// and no error when b holds only the beginning of one (read more and call
// again), or n, the bytes the answer took. A chunked body is assembled in
// scratch[:0] (grown as needed), any other aliases b.
func ParseAnswer(b, scratch []byte) (a Answer, n int, err error) {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		if len(b) > 64<<10 {
			return a, 0, fmt.Errorf("an answer's head longer than 64 KiB")
		}
		return a, 0, nil
	}
	head, rest := b[:end+2], b[end+4:]
	line, head, _ := bytes.Cut(head, []byte("\r\n"))
	// HTTP/1.1 200 OK
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return a, 0, fmt.Errorf("not an HTTP/1.x status line: %q", line)
	}
	code, ok := atoi(line[9:12])
	if !ok {
		return a, 0, fmt.Errorf("bad status code in %q", line)
	}
	a.Code = code
	length, chunked := -1, false
	a.Closing = line[7] == '0' // HTTP/1.0 closes by default
	for len(head) > 0 {
		var h []byte
		h, head, _ = bytes.Cut(head, []byte("\r\n"))
		name, value, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			return a, 0, fmt.Errorf("bad header line %q", h)
		}
		value = bytes.TrimSpace(value)
		switch {
		case equalFold(name, "content-length"):
			n, ok := atoi(value)
			if !ok {
				return a, 0, fmt.Errorf("bad Content-Length %q", value)
			}
			length = n
		case equalFold(name, "transfer-encoding"):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case equalFold(name, "connection"):
			a.Closing = bytes.EqualFold(value, []byte("close"))
		}
	}
	headLen := end + 4
	switch {
	case code == 204 || code == 304 || code < 200:
		if code < 200 {
			return a, 0, fmt.Errorf("an informational answer (%d) the loop does not expect", code)
		}
		return a, headLen, nil
	case chunked:
		body, used, err := parseChunked(rest, scratch[:0])
		if err != nil || used == 0 {
			return a, 0, err
		}
		a.Body, a.Chunked = body, true
		return a, headLen + used, nil
	case length >= 0:
		if len(rest) < length {
			return a, 0, nil
		}
		a.Body = rest[:length:length]
		return a, headLen + length, nil
	}
	return a, 0, errNoLength
}

// parseChunked assembles a chunked body from the front of b into dst. It
// returns used = 0 and no error when b holds only part of it.
func parseChunked(b, dst []byte) (body []byte, used int, err error) {
	at := 0
	for {
		i := bytes.Index(b[at:], []byte("\r\n"))
		if i < 0 {
			if len(b)-at > 1024 {
				return nil, 0, fmt.Errorf("a chunk size line longer than 1 KiB")
			}
			return nil, 0, nil
		}
		line := b[at : at+i]
		size := line
		if j := bytes.IndexByte(size, ';'); j >= 0 {
			size = size[:j]
		}
		size = bytes.TrimSpace(size)
		n, ok := atohex(size)
		if !ok {
			return nil, 0, fmt.Errorf("bad chunk size %q", line)
		}
		at += i + 2
		if n == 0 {
			// Trailers, then the empty line.
			for {
				k := bytes.Index(b[at:], []byte("\r\n"))
				if k < 0 {
					return nil, 0, nil
				}
				at += k + 2
				if k == 0 {
					return dst, at, nil
				}
			}
		}
		if len(b)-at < n+2 {
			return nil, 0, nil
		}
		if b[at+n] != '\r' || b[at+n+1] != '\n' {
			return nil, 0, fmt.Errorf("a chunk of %d bytes not followed by CRLF", n)
		}
		dst = append(dst, b[at:at+n]...)
		at += n + 2
	}
}

// atohex reads a hexadecimal chunk size of at most 15 digits.
func atohex(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			n = n<<4 | int(c-'0')
		case 'a' <= c && c <= 'f':
			n = n<<4 | int(c-'a'+10)
		case 'A' <= c && c <= 'F':
			n = n<<4 | int(c-'A'+10)
		default:
			return 0, false
		}
	}
	return n, true
}
