package web

import "strings"

// DiffLine is one line of a line diff: kept (' '), removed ('-') or added
// ('+'), with its numbers in the old and new text (0 when absent).
type DiffLine struct {
	Op       byte
	Old, New int
	Text     string
}

// maxDiffCells bounds the LCS table; beyond it, the diff shows the whole
// old text removed and the new one added.
const maxDiffCells = 4 << 20

// Diff returns a line diff of a and b from a longest common subsequence of
// their lines. Common leading and trailing lines are matched first, so the
// table covers only the changed middle.
func Diff(a, b string) []DiffLine {
	x, y := splitLines(a), splitLines(b)
	pre := 0
	for pre < len(x) && pre < len(y) && x[pre] == y[pre] {
		pre++
	}
	suf := 0
	for suf < len(x)-pre && suf < len(y)-pre && x[len(x)-1-suf] == y[len(y)-1-suf] {
		suf++
	}
	var out []DiffLine
	for i := 0; i < pre; i++ {
		out = append(out, DiffLine{Op: ' ', Old: i + 1, New: i + 1, Text: x[i]})
	}
	mx, my := x[pre:len(x)-suf], y[pre:len(y)-suf]
	n, m := len(mx), len(my)
	if (n+1)*(m+1) > maxDiffCells {
		for i, l := range mx {
			out = append(out, DiffLine{Op: '-', Old: pre + i + 1, Text: l})
		}
		for j, l := range my {
			out = append(out, DiffLine{Op: '+', New: pre + j + 1, Text: l})
		}
	} else {
		// lcs[i][j] is the LCS length of mx[i:] and my[j:].
		w := m + 1
		lcs := make([]int32, (n+1)*w)
		for i := n - 1; i >= 0; i-- {
			for j := m - 1; j >= 0; j-- {
				if mx[i] == my[j] {
					lcs[i*w+j] = lcs[(i+1)*w+j+1] + 1
				} else {
					lcs[i*w+j] = max(lcs[(i+1)*w+j], lcs[i*w+j+1])
				}
			}
		}
		i, j := 0, 0
		for i < n || j < m {
			switch {
			case i < n && j < m && mx[i] == my[j]:
				out = append(out, DiffLine{Op: ' ', Old: pre + i + 1, New: pre + j + 1, Text: mx[i]})
				i++
				j++
			case j < m && (i == n || lcs[i*w+j+1] > lcs[(i+1)*w+j]):
				out = append(out, DiffLine{Op: '+', New: pre + j + 1, Text: my[j]})
				j++
			default:
				out = append(out, DiffLine{Op: '-', Old: pre + i + 1, Text: mx[i]})
				i++
			}
		}
	}
	for k := 0; k < suf; k++ {
		i, j := len(x)-suf+k, len(y)-suf+k
		out = append(out, DiffLine{Op: ' ', Old: i + 1, New: j + 1, Text: x[i]})
	}
	return out
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(strings.ReplaceAll(s, "\r\n", "\n"), "\n"), "\n")
}
