package krm_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/krm"
)

var testfn string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "krm-testfn-")
	if err != nil {
		panic(err)
	}
	// Functions run as nobody when the tests run as root.
	if err := os.Chmod(dir, 0o755); err != nil {
		panic(err)
	}
	testfn = filepath.Join(dir, "testfn")
	// A static build runs as an executable and, alone, as a container
	// image.
	build := exec.Command("go", "build", "-o", testfn, "./internal/testfn")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		panic(fmt.Sprintf("build testfn: %v\n%s", err, out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func configMaps(n int) *framework.ResourceList {
	rl := &framework.ResourceList{}
	for i := 0; i < n; i++ {
		rl.Items = append(rl.Items, yaml.MustParse(fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm%d\n  annotations:\n    internal.config.kubernetes.io/path: cm.yaml\ndata:\n  k: v\n", i)))
	}
	return rl
}

func runExec(t *testing.T, limits krm.Limits, args ...string) (*krm.Output, error) {
	t.Helper()
	rt := krm.Executable(testfn, krm.ExecConfig{Args: args})
	return rt.Run(context.Background(), krm.Function{Exec: testfn}, configMaps(3), testLimits(limits, 10*time.Second))
}

// testLimits are the sandbox tests' limits: l's, with a wall time of wall
// and small memory, CPU, output and process bounds where l sets none.
func testLimits(l krm.Limits, wall time.Duration) krm.Limits {
	if l.WallTime == 0 {
		l.WallTime = wall
	}
	if l.Memory == 0 {
		l.Memory = 256 << 20
	}
	if l.CPU == 0 {
		l.CPU = 5 * time.Second
	}
	if l.MaxOutput == 0 {
		l.MaxOutput = 8 << 20
	}
	if l.Processes == 0 {
		l.Processes = 64
	}
	return l
}

func TestExecRunsAFunction(t *testing.T) {
	in := configMaps(3)
	out, err := krm.Executable(testfn, krm.ExecConfig{Args: []string{"catalog", "set-namespace"}}).Run(context.Background(),
		krm.Function{Exec: testfn, Config: yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  namespace: prod\n")},
		in, krm.Limits{WallTime: 10 * time.Second, Memory: 256 << 20, CPU: 5 * time.Second, MaxOutput: 1 << 20, Processes: 64})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 3 || out.Items[0].GetNamespace() != "prod" {
		t.Fatalf("output: %d items, namespace %q", len(out.Items), out.Items[0].GetNamespace())
	}
	if in.Items[0].GetNamespace() != "" {
		t.Fatal("the input was modified")
	}
	if out.Run.PeakMemory <= 0 || out.Run.Runtime != "exec" {
		t.Fatalf("run info %+v", out.Run)
	}
}

// sandboxAttack is a misbehaving function and the typed error every
// sandboxed runtime must answer it with.
type sandboxAttack struct {
	name   string
	args   []string
	limits krm.Limits
	want   error
	stderr string
}

// sandboxAttacks are the misbehaviours the exec and container runtimes
// must contain alike; addr is a TCP address on the host that a function
// without network must not reach.
func sandboxAttacks(addr string) []sandboxAttack {
	return []sandboxAttack{
		{name: "non-zero exit with results", args: []string{"fail"}, want: krm.ErrFunctionFailed, stderr: "failing on purpose"},
		{name: "not a resource list", args: []string{"garbage"}, want: krm.ErrBadOutput},
		{name: "hangs", args: []string{"hang"}, limits: krm.Limits{WallTime: 1500 * time.Millisecond}, want: krm.ErrTimeout},
		{name: "allocates without bound", args: []string{"alloc"}, want: krm.ErrResourceLimit},
		{name: "spins past its CPU time", args: []string{"spin"}, limits: krm.Limits{CPU: time.Second, WallTime: 30 * time.Second}, want: krm.ErrResourceLimit},
		{name: "forks without bound", args: []string{"fork"}, limits: krm.Limits{Processes: 16}, want: krm.ErrResourceLimit},
		{name: "opens a network connection", args: []string{"network", addr}, want: krm.ErrFunctionFailed, stderr: "dial failed"},
		{name: "floods stdout", args: []string{"flood"}, limits: krm.Limits{MaxOutput: 4 << 20}, want: krm.ErrOutputTooLarge},
	}
}

// checkAttackError asserts the error a runtime gave a sandbox attack.
func checkAttackError(t *testing.T, tc sandboxAttack, err error) {
	t.Helper()
	if !errors.Is(err, tc.want) {
		t.Fatalf("err = %v, want %v", err, tc.want)
	}
	var fe *krm.FunctionError
	if !errors.As(err, &fe) {
		t.Fatalf("not a FunctionError: %v", err)
	}
	if tc.stderr != "" && !strings.Contains(fe.Stderr, tc.stderr) {
		t.Fatalf("stderr tail %q lacks %q", fe.Stderr, tc.stderr)
	}
}

func TestExecSandboxLimits(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, tc := range sandboxAttacks(l.Addr().String()) {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := runExec(t, tc.limits, tc.args...)
			checkAttackError(t, tc, err)
			// Nothing the function started outlives it.
			if out, err := exec.Command("pgrep", "-f", testfn).Output(); err == nil && len(strings.TrimSpace(string(out))) > 0 {
				t.Fatalf("processes left behind: %s", out)
			}
			t.Logf("%v after %v", err, time.Since(start).Round(time.Millisecond))
		})
	}
}

// TestRuntimesRefuseUnboundedLimits: a zero bound is a mistake, not
// "unlimited"; the exec and container runtimes refuse it before running
// anything, naming the field.
func TestRuntimesRefuseUnboundedLimits(t *testing.T) {
	full := krm.Limits{Memory: 64 << 20, CPU: time.Second, WallTime: time.Second, MaxOutput: 1 << 20, Processes: 8}
	cases := map[string]func(*krm.Limits){
		"Memory":    func(l *krm.Limits) { l.Memory = 0 },
		"CPU":       func(l *krm.Limits) { l.CPU = -time.Second },
		"WallTime":  func(l *krm.Limits) { l.WallTime = 0 },
		"MaxOutput": func(l *krm.Limits) { l.MaxOutput = 0 },
		"Processes": func(l *krm.Limits) { l.Processes = 0 },
	}
	// The engine is never asked: the limits are refused first.
	ctr, err := krm.NewContainer(krm.ContainerConfig{Engine: filepath.Join(t.TempDir(), "no-engine")})
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range []krm.Runtime{krm.Executable(testfn, krm.ExecConfig{Args: []string{"echo"}}), ctr} {
		for field, unset := range cases {
			limits := full
			unset(&limits)
			_, err := rt.Run(context.Background(), krm.Function{Exec: testfn, Image: "example.com/fn:v1"}, configMaps(1), limits)
			if !errors.Is(err, krm.ErrBadInput) || !strings.Contains(err.Error(), "Limits."+field) {
				t.Errorf("%s with no %s: err = %v, want ErrBadInput naming Limits.%s", rt.Name(), field, err, field)
			}
		}
	}
}

func TestExecNetworkWhenGranted(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	if _, err := runExec(t, krm.Limits{Network: true}, "network", l.Addr().String()); err != nil {
		t.Fatalf("a function granted network could not connect: %v", err)
	}
}
