package lsp

import (
	"strings"
	"testing"
)

// TestHoverMarkdownSurvivesBackticks: a value holding backticks (found by
// FuzzExecuteCommand's hover) keeps the hover's code span and fence whole.
func TestHoverMarkdownSurvivesBackticks(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"42", "`42`"},
		{"'`'", "``'`'``"},
		{"'a``b'", "```'a``b'```"},
		{"`x", "`` `x ``"},
		{"'a\nb'", "`'a b'`"},
	} {
		if got := codeSpan(tc.in); got != tc.want {
			t.Errorf("codeSpan(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := backticks("s = '```'", 3); got != "````" {
		t.Errorf("fence around a value with ``` = %q, want ````", got)
	}
	if got := backticks("i = 1", 3); got != "```" {
		t.Errorf("fence = %q", got)
	}
	if strings.Count(codeSpan("````"), "`````") != 2 {
		t.Errorf("codeSpan(````) = %q", codeSpan("````"))
	}
}
