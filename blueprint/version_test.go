package blueprint

import (
	"errors"
	"testing"
)

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"v1", "1.0.0"},
		{"1", "1.0.0"},
		{"v1-2", "1.2.0"},
		{"v1-2-3", "1.2.3"},
		{"v10-0-1", "10.0.1"},
		{"v2-rc1", "2.0.0-rc1"},
		{"v2-0-0-rc-1", "2.0.0-rc-1"},
		{"v1.2.3", "1.2.3"},
		{"1.2", "1.2.0"},
		{"v1.2.3-rc.1", "1.2.3-rc.1"},
		{" v3.0.0 ", "3.0.0"},
	} {
		v, err := ParseVersion(tc.in)
		if err != nil {
			t.Errorf("ParseVersion(%q): %v", tc.in, err)
			continue
		}
		if v.String() != tc.want {
			t.Errorf("ParseVersion(%q) = %s, want %s", tc.in, v, tc.want)
		}
	}
	for _, in := range []string{"", "main", "latest", "v", "vpc", "v1.2.3.4", "v01", "second", "draft-1", "1..2"} {
		if v, err := ParseVersion(in); !errors.Is(err, ErrInvalidVersion) {
			t.Errorf("ParseVersion(%q) = %v, %v; want ErrInvalidVersion", in, v, err)
		}
	}
}

func TestVersionFromTag(t *testing.T) {
	for _, tc := range []struct{ ref, pkg, want string }{
		{"refs/tags/amf/v1.2.3", "amf", "1.2.3"},
		{"amf/v1.2.3", "amf", "1.2.3"},
		{"blueprints/amf/v2", "amf", "2.0.0"},
		{"v1.4.0", "amf", "1.4.0"},
		{"smf/v1.2.3", "amf", ""},
		{"main", "amf", ""},
		{"amf/main", "amf", ""},
	} {
		v := versionFromTag(tc.ref, tc.pkg)
		got := ""
		if v != nil {
			got = v.String()
		}
		if got != tc.want {
			t.Errorf("versionFromTag(%q, %q) = %q, want %q", tc.ref, tc.pkg, got, tc.want)
		}
	}
}
