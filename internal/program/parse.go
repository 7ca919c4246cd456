package program

// Parse reads, validates and compiles a program file. On failure it returns
// a *rung.Error with code EINVALID whose Details list every problem with its
// line, key and what was expected.
func Parse(src []byte) (*Program, error) { panic("TODO") }
