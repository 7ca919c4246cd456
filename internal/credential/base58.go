package credential

import (
	"errors"
	"math/big"
)

// base58btc is the Bitcoin base58 alphabet that multibase's 'z' prefix
// names.
const base58btc = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

var base58Index = func() [256]int8 {
	var idx [256]int8
	for i := range idx {
		idx[i] = -1
	}
	for i := 0; i < len(base58btc); i++ {
		idx[base58btc[i]] = int8(i)
	}
	return idx
}()

// encodeBase58 encodes b in base58btc; each leading zero byte becomes a
// leading '1'.
func encodeBase58(b []byte) string {
	zeros := 0
	for zeros < len(b) && b[zeros] == 0 {
		zeros++
	}
	n := new(big.Int).SetBytes(b)
	radix, mod := big.NewInt(58), new(big.Int)
	var out []byte
	for n.Sign() > 0 {
		n.DivMod(n, radix, mod)
		out = append(out, base58btc[mod.Int64()])
	}
	for range zeros {
		out = append(out, '1')
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return string(out)
}

// errBase58 is returned for a character outside the base58btc alphabet.
var errBase58 = errors.New("not base58btc")

// decodeBase58 reverses encodeBase58. Inputs longer than 512 characters are
// refused: nothing Rung reads in base58 is that long.
func decodeBase58(s string) ([]byte, error) {
	if len(s) > 512 {
		return nil, errors.New("base58btc value too long")
	}
	zeros := 0
	for zeros < len(s) && s[zeros] == '1' {
		zeros++
	}
	n, radix := new(big.Int), big.NewInt(58)
	for i := zeros; i < len(s); i++ {
		d := base58Index[s[i]]
		if d < 0 {
			return nil, errBase58
		}
		n.Mul(n, radix)
		n.Add(n, big.NewInt(int64(d)))
	}
	return append(make([]byte, zeros), n.Bytes()...), nil
}
