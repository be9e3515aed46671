package process

import (
	"fmt"
	"strings"
)

// Group is a set of processes reported on together.
type Group []*Process

// Running lists the names of the processes that have not exited.
func (g Group) Running() []string {
	var names []string
	for _, p := range g {
		if p.Running() {
			names = append(names, p.Name())
		}
	}
	return names
}

// LogTails returns the last n lines of every process's log.
func (g Group) LogTails(n int) string {
	var b strings.Builder
	for _, p := range g {
		fmt.Fprintf(&b, "--- last %d lines of %s (%s) ---\n%s\n", n, p.Name(), p.LogPath(), p.Tail(n))
	}
	return b.String()
}

// MemoryUsage returns the resident set size in bytes of each running
// process, by name.
func (g Group) MemoryUsage() (map[string]int64, error) {
	out := make(map[string]int64, len(g))
	for _, p := range g {
		if !p.Running() {
			continue
		}
		rss, err := p.RSS()
		if err != nil {
			if !p.Running() { // exited meanwhile
				continue
			}
			return nil, err
		}
		out[p.Name()] = rss
	}
	return out, nil
}
