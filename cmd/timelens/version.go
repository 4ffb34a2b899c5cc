package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is the release, set at build time:
//
//	go build -ldflags "-X main.version=v0.1.0" ./cmd/timelens
var version = "devel"

// versionString is what `timelens version` and `timelens --version` print:
// "timelens VERSION (go1.26.x, commit REV[, modified])". VERSION is
// main.version, set by make build (git describe); else the module's version
// when built by go install …@VERSION (a tag, or a pseudo-version that holds
// the commit); else "devel". The commit is the one go build read from git,
// left out when it did not (go install builds from the module cache).
func versionString() string {
	v := version
	commit, modified := "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "devel" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version // go install ...@vX.Y.Z
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
				if len(commit) > 12 {
					commit = commit[:12]
				}
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if commit == "" {
		return fmt.Sprintf("timelens %s (%s)", v, runtime.Version())
	}
	if modified {
		commit += ", modified"
	}
	return fmt.Sprintf("timelens %s (%s, commit %s)", v, runtime.Version(), commit)
}

func runVersion(inv *invocation) int {
	fmt.Fprintln(inv.stdout, versionString())
	return exitOK
}
