package web

import (
	"strings"
	"testing"
)

func render(ds []DiffLine) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteByte(d.Op)
		b.WriteString(d.Text)
		b.WriteByte('\n')
	}
	return b.String()
}

func TestDiffShowsChangedLinesBetweenKeptOnes(t *testing.T) {
	tests := []struct {
		name, a, b, want string
	}{
		{"same", "a\nb\n", "a\nb\n", " a\n b\n"},
		{"empty to text", "", "a\n", "+a\n"},
		{"text to empty", "a\n", "", "-a\n"},
		{"changed middle", "a\nb\nc\n", "a\nB\nc\n", " a\n-b\n+B\n c\n"},
		{"insert", "a\nc\n", "a\nb\nc\n", " a\n+b\n c\n"},
		{"delete and add", "x\na\nb\ny\n", "x\nb\nc\ny\n", " x\n-a\n b\n+c\n y\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := render(Diff(tt.a, tt.b)); got != tt.want {
				t.Errorf("Diff:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestDiffRebuildsBothTexts(t *testing.T) {
	a := "name: A\npoints:\n  rules:\n    - id: a\n      award: 5\n    - id: b\nlevels: []\n"
	b := "name: B\npoints:\n  rules:\n    - id: b\n    - id: a\n      award: 7\nlevels: []\nextra: 1\n"
	var old, nw []string
	for _, d := range Diff(a, b) {
		if d.Op != '+' {
			old = append(old, d.Text)
		}
		if d.Op != '-' {
			nw = append(nw, d.Text)
		}
	}
	if strings.Join(old, "\n")+"\n" != a || strings.Join(nw, "\n")+"\n" != b {
		t.Fatalf("the diff does not rebuild its inputs:\n%s", render(Diff(a, b)))
	}
}
