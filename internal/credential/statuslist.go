package credential

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
)

// StatusListSize is the number of entries in one status list: the Bitstring
// Status List minimum of 131,072 bits (16 KiB), which also hides which
// credential a verifier asks about among many.
const StatusListSize = 131072

// encodeStatusList returns the encodedList of a bitstring of StatusListSize
// bits with the given indexes set: GZIP-compressed, then multibase base64url
// without padding ('u'). Bit 0 is the most significant bit of the first
// byte.
func encodeStatusList(set []int) (string, error) {
	bits := make([]byte, StatusListSize/8)
	for _, i := range set {
		if i < 0 || i >= StatusListSize {
			return "", fmt.Errorf("status index %d is outside the list (0..%d)", i, StatusListSize-1)
		}
		bits[i/8] |= 0x80 >> (i % 8)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(bits); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return "u" + base64.RawURLEncoding.EncodeToString(buf.Bytes()), nil
}

// maxStatusListBytes bounds what decodeStatusList inflates, so a hostile
// list cannot exhaust memory: 16 MiB holds 134 million entries.
const maxStatusListBytes = 16 << 20

// decodeStatusList reverses encodeStatusList, for lists of any length.
func decodeStatusList(encoded string) ([]byte, error) {
	if !strings.HasPrefix(encoded, "u") {
		return nil, errors.New("encodedList must be multibase base64url ('u')")
	}
	gz, err := base64.RawURLEncoding.DecodeString(encoded[1:])
	if err != nil {
		return nil, fmt.Errorf("encodedList: %w", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("encodedList: %w", err)
	}
	bits, err := io.ReadAll(io.LimitReader(zr, maxStatusListBytes+1))
	if err != nil {
		return nil, fmt.Errorf("encodedList: %w", err)
	}
	if len(bits) > maxStatusListBytes {
		return nil, errors.New("encodedList is too long")
	}
	return bits, nil
}

// statusBit reports whether bit i of a decoded list is set.
func statusBit(bits []byte, i int) (bool, error) {
	if i < 0 || i/8 >= len(bits) {
		return false, fmt.Errorf("status index %d is outside the list of %d entries", i, len(bits)*8)
	}
	return bits[i/8]&(0x80>>(i%8)) != 0, nil
}
