package lsp

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// unknownOptions says, in the words the editor shows, which keys of the
// initializationOptions opts are not among known; "" when every key is
// known, or when known is empty (the server does not know the options).
// A typo such as "recordfrom" would otherwise go unnoticed: the session
// starts without it.
func unknownOptions(opts json.RawMessage, known []string) string {
	if len(known) == 0 || len(opts) == 0 {
		return ""
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(opts, &fields); err != nil {
		return fmt.Sprintf("timelens: initializationOptions must be a JSON object of timelens options (known keys: %s); ignored them", strings.Join(known, ", "))
	}
	var unknown []string
	for k := range fields {
		if !slices.Contains(known, k) {
			unknown = append(unknown, fmt.Sprintf("%q", k))
		}
	}
	if len(unknown) == 0 {
		return ""
	}
	slices.Sort(unknown)
	what := "key"
	if len(unknown) > 1 {
		what = "keys"
	}
	return fmt.Sprintf("timelens: ignored unknown initializationOptions %s %s; the known keys are %s (check the spelling in your editor's timelens settings)",
		what, strings.Join(unknown, ", "), strings.Join(known, ", "))
}

// afterInitialized runs fn once the editor has sent initialized (the
// server may not send it messages before), or not at all if the session
// ends first.
func (s *server) afterInitialized(fn func()) {
	select {
	case <-s.initialized:
		fn()
	case <-s.ctx.Done():
	}
}
