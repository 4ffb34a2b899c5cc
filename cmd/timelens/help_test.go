package main

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/timelens/timelens/pyext"
)

// helpFlag is a flag as help lists it: the start of a line, two spaces in.
var helpFlag = regexp.MustCompile(`(?m)^  (-{1,2}[a-z][a-z-]*)`)

// TestHelpListsExactlyTheFlagsTaken: each command's help lists the flags its
// parser takes, no more and no fewer, both read from the same flag set.
func TestHelpListsExactlyTheFlagsTaken(t *testing.T) {
	for _, c := range commands {
		var o Options
		var takes []string
		c.flagSet(&o).VisitAll(func(f *flag.Flag) { takes = append(takes, dashed(f.Name)) })
		r := timelens(t, c.name, "--help")
		var listed []string
		for _, m := range helpFlag.FindAllStringSubmatch(r.stdout, -1) {
			if m[1] != "-h" {
				listed = append(listed, m[1])
			}
		}
		slices.Sort(takes)
		slices.Sort(listed)
		if !slices.Equal(takes, listed) {
			t.Errorf("timelens %s --help lists %q; the command takes %q:\n%s", c.name, listed, takes, r.stdout)
		}
		// A shared flag it does not take is refused with why, in one line.
		for name, why := range c.notShared {
			usageError(t, []string{c.name, dashed(name), "x"}, "takes no "+dashed(name), why)
		}
	}
}

// TestHelpExamplesRun: every help has an Examples section, and each of its
// command lines is one that timelens takes (in a directory holding the
// app.py and the app.rec they name).
func TestHelpExamplesRun(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.py"), []byte("def main():\n    x = 1\n\nmain()\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "app.rec"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "app.rec", pyext.ManifestFile), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	helps := map[string]string{"timelens help": overviewExamples}
	for _, c := range commands {
		helps["timelens help "+c.name] = c.examples
	}
	for help, examples := range helps {
		r := timelens(t, strings.Fields(help)[1:]...)
		if !strings.Contains(r.stdout, "\nExamples:\n") {
			t.Errorf("%s has no Examples section:\n%s", help, r.stdout)
			continue
		}
		n := 0
		for _, line := range strings.Split(examples, "\n") {
			if strings.HasPrefix(line, "#") {
				continue
			}
			args := strings.Fields(line)
			if args[0] != "timelens" || len(args) < 2 {
				t.Errorf("%s: example %q is not a timelens command line", help, line)
				continue
			}
			n++
			switch c := lookup(args[1]); {
			case args[1] == "help" || args[1] == "--version":
				if r := timelens(t, args[1:]...); r.code != 0 {
					t.Errorf("%s: example %q: %v", help, line, r)
				}
			case c == nil:
				t.Errorf("%s: example %q: no such command", help, line)
			default:
				if _, err := c.parse(args[2:]); err != nil {
					t.Errorf("%s: example %q: %v", help, line, err)
				}
			}
		}
		if n == 0 {
			t.Errorf("%s: no example command line", help)
		}
	}
}

// TestVersionFlag: timelens --version is timelens version.
func TestVersionFlag(t *testing.T) {
	want := timelens(t, "version")
	for _, args := range [][]string{{"--version"}, {"-version"}} {
		if r := timelens(t, args...); r != want {
			t.Errorf("timelens %q: %v, want %v", args, r, want)
		}
	}
	usageError(t, []string{"--version", "extra"}, "takes no arguments")
}
