package pyext

import (
	"slices"
	"strings"
)

// PythonArgv is the one rule for what runs PROGRAM ARGS: a program whose
// first word is a .py file runs under python (python3 when empty); anything
// else (an interpreter and its script, another executable) runs as given.
func PythonArgv(program []string, python string) []string {
	if len(program) > 0 && strings.HasSuffix(program[0], ".py") {
		if python == "" {
			python = "python3"
		}
		return append([]string{python}, program...)
	}
	return slices.Clone(program)
}
