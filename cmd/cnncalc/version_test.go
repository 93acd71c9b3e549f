package main

import (
	"runtime/debug"
	"testing"
)

// The version names the build's version and the VCS revision the
// toolchain stamped, as go version -m shows them.
func TestFormatVersion(t *testing.T) {
	rev := []debug.BuildSetting{
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "db74049ec36ef4b271fb582d090b143c968e09b8"},
		{Key: "vcs.time", Value: "2026-12-01T10:17:49Z"},
		{Key: "vcs.modified", Value: "true"},
	}
	for _, c := range []struct {
		version, module string
		settings        []debug.BuildSetting
		want            string
	}{
		{"dev", "(devel)", nil, "dev"},
		{"dev", "", nil, "dev"},
		{"dev", "v1.2.0", nil, "v1.2.0"},
		{"v1.3.0", "v1.2.0", nil, "v1.3.0"},
		{"dev", "v0.0.0-20261201101749-db74049ec36e", rev, "v0.0.0-20261201101749-db74049ec36e (rev db74049ec36e, 2026-12-01T10:17:49Z, modified)"},
		{"v1.3.0", "(devel)", rev[:2], "v1.3.0 (rev db74049ec36e)"},
	} {
		bi := &debug.BuildInfo{Main: debug.Module{Version: c.module}, Settings: c.settings}
		if got := formatVersion(c.version, bi); got != c.want {
			t.Errorf("formatVersion(%q, %q) = %q, want %q", c.version, c.module, got, c.want)
		}
	}
}

// cnncalc version and cnncalc --version print the same line.
func TestVersionCommand(t *testing.T) {
	out, errOut, code := runCmd(t, "", "version")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	flag, _, _ := runCmd(t, "", "--version")
	if want := "cnncalc version " + versionString() + "\n"; out != want || flag != want {
		t.Errorf("version printed %q, --version %q, want %q", out, flag, want)
	}
}
