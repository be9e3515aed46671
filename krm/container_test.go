package krm_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/krm"
)

// containersConf is the containers.conf the tests give podman: no default
// rlimits, which some sandboxes' OCI runtimes cannot set.
const containersConf = "[containers]\ndefault_ulimits = []\n"

// podmanEnv is one test's podman: its own containers.conf and its own image
// names (under prefix), removed when the test ends.
type podmanEnv struct {
	podman string
	conf   string
	// prefix is where ImageMirrors sends gcr.io/kpt-fn/ images, e.g.
	// localhost/krmtest-0123abcd/.
	prefix string
}

// fnTar is a tar of the static testfn as /testfn, made once, with a
// world-writable /krm-writable that only the read-only root keeps a
// function from writing to.
var fnTar = sync.OnceValues(func() (string, error) {
	var buf bytes.Buffer
	bin, err := os.ReadFile(testfn)
	if err != nil {
		return "", err
	}
	w := tar.NewWriter(&buf)
	if err := w.WriteHeader(&tar.Header{Name: "krm-writable/", Mode: 0o777, Typeflag: tar.TypeDir}); err != nil {
		return "", err
	}
	if err := w.WriteHeader(&tar.Header{Name: "testfn", Mode: 0o755, Size: int64(len(bin)), Typeflag: tar.TypeReg}); err != nil {
		return "", err
	}
	if _, err := w.Write(bin); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	path := filepath.Join(filepath.Dir(testfn), "testfn.tar")
	return path, os.WriteFile(path, buf.Bytes(), 0o644)
})

// requireContainersEnv, when set, makes a machine without podman fail the
// container tests instead of skipping them.
const requireContainersEnv = "PORCHKIT_REQUIRE_CONTAINERS"

// newPodman returns a podmanEnv, skipping the test on a machine without
// podman unless requireContainersEnv is set; an installed podman that does
// not answer fails the test with its reason.
func newPodman(t testing.TB) *podmanEnv {
	t.Helper()
	path, err := exec.LookPath("podman")
	if err != nil {
		// A machine without podman cannot run containers at all; CI
		// installs podman and sets requireContainersEnv so that a missing
		// engine fails there instead.
		if os.Getenv(requireContainersEnv) == "" {
			t.Skipf("no podman installed (apt-get install podman runc; .ci/run installs them and sets %s=1)", requireContainersEnv)
		}
		t.Fatalf("podman is not installed and %s is set: %v", requireContainersEnv, err)
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	env := &podmanEnv{podman: path, conf: filepath.Join(t.TempDir(), "containers.conf"), prefix: "localhost/krmtest-" + hex.EncodeToString(b[:]) + "/"}
	if err := os.WriteFile(env.conf, []byte(containersConf), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := env.run("info", "--format", "{{.Version.Version}}"); err != nil {
		t.Fatalf("podman is installed but does not work: %v", err)
	}
	t.Cleanup(func() {
		out, err := env.run("images", "--format", "{{.Repository}}:{{.Tag}}")
		if err != nil {
			t.Error(err)
			return
		}
		for _, img := range strings.Fields(string(out)) {
			if strings.HasPrefix(img, env.prefix) {
				if _, err := env.run("rmi", "-f", img); err != nil {
					t.Error(err)
				}
			}
		}
	})
	return env
}

// run runs a podman command under the test's containers.conf, bounded by a
// minute, and returns its stdout; an error carries its stderr.
func (p *podmanEnv) run(args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.podman, args...)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+p.conf)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("podman %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	return out, nil
}

// image imports testfn as the image prefix+name (a reference such as
// set-namespace:v0.4.1), with args as its entrypoint's arguments, and
// returns the reference.
func (p *podmanEnv) image(t testing.TB, name string, args ...string) string {
	t.Helper()
	tarball, err := fnTar()
	if err != nil {
		t.Fatal(err)
	}
	entrypoint, err := json.Marshal(append([]string{"/testfn"}, args...))
	if err != nil {
		t.Fatal(err)
	}
	ref := p.prefix + name
	if _, err := p.run("import", "--quiet", "--change", "ENTRYPOINT "+string(entrypoint), tarball, ref); err != nil {
		t.Fatal(err)
	}
	return ref
}

// catalogImages imports a catalog function image for each of images
// (set-namespace:v0.4.1, ...), running testfn's copy of the same code.
func (p *podmanEnv) catalogImages(t testing.TB, images ...string) {
	t.Helper()
	for _, img := range images {
		p.image(t, img, "catalog", strings.Split(img, ":")[0])
	}
}

// runtime is the container runtime the tests use: this podman, runc, the
// test's containers.conf, local images only, catalog images from the
// test's prefix.
func (p *podmanEnv) runtime(t testing.TB) krm.Runtime {
	t.Helper()
	rt, err := krm.NewContainer(krm.ContainerConfig{Engine: p.podman, OCIRuntime: "runc", ContainersConf: p.conf, Pull: "never",
		ImageMirrors: map[string]string{"gcr.io/kpt-fn/": p.prefix}})
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

// containersOf lists the containers (running or not) of image.
func (p *podmanEnv) containersOf(t testing.TB, image string) string {
	t.Helper()
	out, err := p.run("ps", "-a", "--filter", "ancestor="+image, "--format", "{{.Names}} {{.Status}}")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// containerLimits are the limits runExec uses, with a longer wall time
// for the engine's start, and overrides from l.
func containerLimits(l krm.Limits) krm.Limits { return testLimits(l, 20*time.Second) }

var setNamespaceConfig = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  namespace: prod\n"

// listText is a run's items and results as text, for comparing runtimes.
func listText(t *testing.T, out *krm.Output) string {
	t.Helper()
	var b strings.Builder
	for _, n := range out.Items {
		b.WriteString(n.MustString())
		b.WriteString("---\n")
	}
	for _, r := range out.Results {
		b.WriteString(string(r.Severity) + ": " + r.Message + "\n")
	}
	return b.String()
}

func TestContainerRunsAFunction(t *testing.T) {
	p := newPodman(t)
	p.catalogImages(t, "set-namespace:v0.4.1")
	rt := p.runtime(t)
	fn := krm.Function{Image: "gcr.io/kpt-fn/set-namespace:v0.4.1", Config: yaml.MustParse(setNamespaceConfig)}
	in := configMaps(3)
	out, err := rt.Run(context.Background(), fn, in, containerLimits(krm.Limits{}))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 3 || out.Items[0].GetNamespace() != "prod" {
		t.Fatalf("output: %d items, namespace %q", len(out.Items), out.Items[0].GetNamespace())
	}
	if in.Items[0].GetNamespace() != "" {
		t.Fatal("the input was modified")
	}
	if out.Run.Runtime != "container" || out.Run.ExitCode != 0 || out.Run.Duration <= 0 {
		t.Fatalf("run info %+v", out.Run)
	}
	execOut, err := krm.Executable(testfn, krm.ExecConfig{Args: []string{"catalog", "set-namespace"}}).Run(context.Background(),
		krm.Function{Exec: testfn, Config: fn.Config}, in, containerLimits(krm.Limits{}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := listText(t, out), listText(t, execOut); got != want {
		t.Fatalf("container output:\n%s\nexec output:\n%s", got, want)
	}
	if left := p.containersOf(t, p.prefix+"set-namespace:v0.4.1"); left != "" {
		t.Fatalf("the container outlived its run: %s", left)
	}
}

// runtimesOf are Runners of the same catalog functions, in-process, as
// executables and as containers.
func runtimesOf(t testing.TB, p *podmanEnv, images ...string) map[string]*krm.Runner {
	t.Helper()
	p.catalogImages(t, images...)
	execReg, ctrReg := krm.NewRegistry(), krm.NewRegistry()
	ctr := p.runtime(t)
	for _, img := range images {
		name := strings.Split(img, ":")[0]
		if err := execReg.Register("gcr.io/kpt-fn/"+img, krm.Executable(testfn, krm.ExecConfig{Args: []string{"catalog", name}}), krm.Capabilities{}); err != nil {
			t.Fatal(err)
		}
		if err := ctrReg.Register("gcr.io/kpt-fn/"+img, ctr, krm.Capabilities{}); err != nil {
			t.Fatal(err)
		}
	}
	return map[string]*krm.Runner{
		"builtin":   krm.NewRunner(krm.RunnerConfig{MemoSize: -1}),
		"exec":      krm.NewRunner(krm.RunnerConfig{MemoSize: -1, Registry: execReg}),
		"container": krm.NewRunner(krm.RunnerConfig{MemoSize: -1, Registry: ctrReg}),
	}
}

// TestContainerRunnerMatchesOtherRuntimes runs the same calls through a
// Runner whose Registry maps the images to containers, to executables and
// to builtins: the same items, results and errors.
func TestContainerRunnerMatchesOtherRuntimes(t *testing.T) {
	p := newPodman(t)
	runners := runtimesOf(t, p, "set-namespace:v0.4.1", "set-labels:v0.2.0", "validate-structure:v0.1.0")
	labels := yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: l\ndata:\n  tier: web\n")
	dup := configMaps(2)
	dup.Items = append(dup.Items, configMaps(1).Items...)
	calls := []struct {
		name string
		fn   krm.Function
		in   *framework.ResourceList
		err  error
	}{
		{"set-namespace", krm.Function{Image: "gcr.io/kpt-fn/set-namespace:v0.4.1", Config: yaml.MustParse(setNamespaceConfig)}, configMaps(4), nil},
		{"set-labels", krm.Function{Image: "gcr.io/kpt-fn/set-labels:v0.2.0", Config: labels}, configMaps(2), nil},
		{"validator passes", krm.Function{Image: "gcr.io/kpt-fn/validate-structure:v0.1.0"}, configMaps(3), nil},
		{"validator fails", krm.Function{Image: "gcr.io/kpt-fn/validate-structure:v0.1.0"}, dup, krm.ErrFunctionFailed},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			got := map[string]string{}
			for name, r := range runners {
				out, err := r.Execute(context.Background(), c.fn, c.in)
				if !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
					t.Fatalf("%s: err = %v, want %v", name, err, c.err)
				}
				if err != nil {
					var fe *krm.FunctionError
					if !errors.As(err, &fe) || len(fe.Results) == 0 {
						t.Fatalf("%s: no results in %v", name, err)
					}
					got[name] = listText(t, &krm.Output{Results: fe.Results})
					continue
				}
				if out.Run.Runtime != name {
					t.Fatalf("%s ran in %q", name, out.Run.Runtime)
				}
				got[name] = listText(t, out)
			}
			if got["container"] != got["exec"] || got["container"] != got["builtin"] {
				t.Fatalf("runtimes disagree:\ncontainer:\n%s\nexec:\n%s\nbuiltin:\n%s", got["container"], got["exec"], got["builtin"])
			}
		})
	}
}

// TestContainerRender renders a Kptfile package (a subpackage, selectors,
// a configPath, a validator) with every function in a container, and gets
// the files and results of the in-process and exec renders.
func TestContainerRender(t *testing.T) {
	p := newPodman(t)
	runners := runtimesOf(t, p, "set-namespace:v0.4.1", "set-labels:v0.2.0", "set-annotations:v0.1.4", "validate-structure:v0.1.0")
	in := pkgFiles()
	original := maps.Clone(in)
	outs := map[string]map[string]string{}
	results := map[string]string{}
	for name, r := range runners {
		out, res, err := krm.Render(context.Background(), r, in)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		outs[name] = out
		var b strings.Builder
		for _, run := range res.Runs {
			if run.Run.Runtime != name {
				t.Fatalf("%s: step %s ran in %q", name, run.Function, run.Run.Runtime)
			}
			b.WriteString(run.Package + " " + run.Function + "\n" + listText(t, &krm.Output{Results: run.Results}))
		}
		results[name] = b.String()
	}
	if !maps.Equal(in, original) {
		t.Fatal("Render modified its input")
	}
	if !strings.Contains(outs["container"]["app.yaml"], "namespace: prod") || !strings.Contains(outs["container"]["db/db.yaml"], "owner: dba") {
		t.Fatalf("the container pipeline did not apply:\n%s\n%s", outs["container"]["app.yaml"], outs["container"]["db/db.yaml"])
	}
	for _, other := range []string{"exec", "builtin"} {
		if !maps.Equal(outs["container"], outs[other]) {
			for f := range outs["container"] {
				if outs["container"][f] != outs[other][f] {
					t.Errorf("%s differs from %s:\n%s\n---\n%s", f, other, outs["container"][f], outs[other][f])
				}
			}
			t.Fatalf("container and %s renders differ", other)
		}
		if results["container"] != results[other] {
			t.Fatalf("results differ:\ncontainer:\n%s\n%s:\n%s", results["container"], other, results[other])
		}
	}
}

// TestContainerSandboxLimits runs the exec runtime's sandbox attacks in
// containers: each is contained, answered with the same typed error, and
// leaves no container or process behind.
func TestContainerSandboxLimits(t *testing.T) {
	p := newPodman(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	rt := p.runtime(t)
	for i, tc := range sandboxAttacks(l.Addr().String()) {
		t.Run(tc.name, func(t *testing.T) {
			image := p.image(t, "attack-"+string(rune('a'+i))+":v1", tc.args...)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			// A container that hangs is seen running before it is killed.
			seen := make(chan bool, 1)
			go func() {
				for ctx.Err() == nil {
					if out, err := p.run("ps", "--filter", "ancestor="+image, "--format", "{{.Names}}"); err == nil && len(bytes.TrimSpace(out)) > 0 {
						seen <- true
						return
					}
					time.Sleep(100 * time.Millisecond)
				}
				seen <- false
			}()
			before := dirNames(t, ".")
			start := time.Now()
			_, err := rt.Run(context.Background(), krm.Function{Image: image}, configMaps(3), containerLimits(tc.limits))
			cancel()
			checkAttackError(t, tc, err)
			if after := dirNames(t, "."); after != before {
				t.Fatalf("the run changed the working directory: %s, was %s", after, before)
			}
			if running := <-seen; tc.want == krm.ErrTimeout && !running {
				t.Fatal("the container was never seen running")
			}
			if left := p.containersOf(t, image); left != "" {
				t.Fatalf("containers left behind: %s", left)
			}
			if out, err := exec.Command("pgrep", "-af", "^/testfn ").Output(); err == nil && len(bytes.TrimSpace(out)) > 0 {
				t.Fatalf("processes left behind: %s", out)
			}
			t.Logf("%v after %v", err, time.Since(start).Round(time.Millisecond))
		})
	}
}

// dirNames lists a directory's entries.
func dirNames(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return strings.Join(names, " ")
}

func TestContainerNetworkWhenGranted(t *testing.T) {
	p := newPodman(t)
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
	image := p.image(t, "network:v1", "network", l.Addr().String())
	if _, err := p.runtime(t).Run(context.Background(), krm.Function{Image: image}, configMaps(1), containerLimits(krm.Limits{Network: true})); err != nil {
		t.Fatalf("a function granted network could not connect: %v", err)
	}
}

// TestContainerCallerCancels: a caller that gives up stops the container
// and gets its context's error.
func TestContainerCallerCancels(t *testing.T) {
	p := newPodman(t)
	image := p.image(t, "hang:v1", "hang")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := p.runtime(t).Run(ctx, krm.Function{Image: image}, configMaps(1), containerLimits(krm.Limits{WallTime: time.Minute}))
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, krm.ErrTimeout) {
		t.Fatalf("err = %v, want the caller's deadline", err)
	}
	if left := p.containersOf(t, image); left != "" {
		t.Fatalf("containers left behind: %s", left)
	}
}

// TestContainerTimeoutDuringStartup: a wall time that ends while the
// engine is still creating or starting the container leaves no container
// behind either.
func TestContainerTimeoutDuringStartup(t *testing.T) {
	p := newPodman(t)
	image := p.image(t, "hang:v1", "hang")
	rt := p.runtime(t)
	for _, wall := range []time.Duration{time.Millisecond, 50 * time.Millisecond, 150 * time.Millisecond, 300 * time.Millisecond} {
		_, err := rt.Run(context.Background(), krm.Function{Image: image}, configMaps(1), containerLimits(krm.Limits{WallTime: wall}))
		if !errors.Is(err, krm.ErrTimeout) {
			t.Fatalf("wall time %v: err = %v, want ErrTimeout", wall, err)
		}
		if left := p.containersOf(t, image); left != "" {
			t.Fatalf("wall time %v: containers left behind: %s", wall, left)
		}
	}
}

func TestContainerMissingImage(t *testing.T) {
	p := newPodman(t)
	_, err := p.runtime(t).Run(context.Background(), krm.Function{Image: "gcr.io/kpt-fn/set-namespace:v9.9.9"}, configMaps(1), containerLimits(krm.Limits{}))
	if !errors.Is(err, krm.ErrUnknownFunction) || !strings.Contains(err.Error(), p.prefix+"set-namespace:v9.9.9") {
		t.Fatalf("err = %v, want ErrUnknownFunction naming the mirrored image", err)
	}
}

// TestContainerEngineSelection: with no engine configured, a docker client
// whose daemon does not answer is passed over for podman; an engine asked
// for by name or path that does not answer is ErrNoContainerRuntime with
// its reason.
func TestContainerEngineSelection(t *testing.T) {
	p := newPodman(t)
	p.catalogImages(t, "set-namespace:v0.4.1")
	bin := t.TempDir()
	fakeDocker := "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'Docker version 28.2.2'; exit 0; fi\necho 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock' >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "docker"), []byte(fakeDocker), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	fn := krm.Function{Image: "gcr.io/kpt-fn/set-namespace:v0.4.1", Config: yaml.MustParse(setNamespaceConfig)}
	cfg := krm.ContainerConfig{ContainersConf: p.conf, Pull: "never", ImageMirrors: map[string]string{"gcr.io/kpt-fn/": p.prefix}}
	auto, err := krm.NewContainer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out, err := auto.Run(context.Background(), fn, configMaps(2), containerLimits(krm.Limits{}))
	if err != nil {
		t.Fatalf("engine detection did not find podman: %v", err)
	}
	if out.Items[1].GetNamespace() != "prod" {
		t.Fatalf("output %s", out.Items[1].MustString())
	}
	for engine, reason := range map[string]string{"docker": "Cannot connect to the Docker daemon", filepath.Join(bin, "podman"): "not found"} {
		cfg.Engine = engine
		rt, err := krm.NewContainer(cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = rt.Run(context.Background(), fn, configMaps(1), containerLimits(krm.Limits{}))
		if !errors.Is(err, krm.ErrNoContainerRuntime) || !strings.Contains(err.Error(), reason) {
			t.Errorf("engine %s: err = %v, want ErrNoContainerRuntime saying %q", engine, err, reason)
		}
	}
}

// TestContainerConfigReachesEngine: ContainersConf, OCIRuntime and Env
// reach the engine's commands, and only those of the runtime configured
// with them.
func TestContainerConfigReachesEngine(t *testing.T) {
	p := newPodman(t)
	p.catalogImages(t, "set-namespace:v0.4.1")
	badConf := filepath.Join(t.TempDir(), "containers.conf")
	if err := os.WriteFile(badConf, []byte("[engine]\nruntime = \"krm-no-such-runtime\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fn := krm.Function{Image: "gcr.io/kpt-fn/set-namespace:v0.4.1", Config: yaml.MustParse(setNamespaceConfig)}
	mirrors := map[string]string{"gcr.io/kpt-fn/": p.prefix}
	for name, cfg := range map[string]krm.ContainerConfig{
		"ContainersConf": {Engine: p.podman, ContainersConf: badConf},
		"OCIRuntime":     {Engine: p.podman, ContainersConf: p.conf, OCIRuntime: "krm-no-such-runtime"},
		"Env":            {Engine: p.podman, ContainersConf: p.conf, Env: []string{"CONTAINERS_CONF=" + badConf}},
	} {
		cfg.Pull, cfg.ImageMirrors = "never", mirrors
		rt, err := krm.NewContainer(cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = rt.Run(context.Background(), fn, configMaps(1), containerLimits(krm.Limits{}))
		if !errors.Is(err, krm.ErrNoContainerRuntime) || !strings.Contains(err.Error(), "krm-no-such-runtime") {
			t.Errorf("%s: err = %v, want ErrNoContainerRuntime naming the runtime", name, err)
		}
	}
	if _, err := p.runtime(t).Run(context.Background(), fn, configMaps(1), containerLimits(krm.Limits{})); err != nil {
		t.Fatalf("another runtime's configuration leaked: %v", err)
	}
}

func TestNewContainerBadConfig(t *testing.T) {
	for field, cfg := range map[string]krm.ContainerConfig{
		"ContainerConfig.Pull":         {Pull: "sometimes"},
		"ContainerConfig.Env":          {Env: []string{"NO_VALUE"}},
		"ContainerConfig.ImageMirrors": {ImageMirrors: map[string]string{"": "localhost/"}},
	} {
		if _, err := krm.NewContainer(cfg); !errors.Is(err, krm.ErrBadInput) || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: err = %v, want ErrBadInput naming it", field, err)
		}
	}
}

// TestContainerFilesystem: a declared mount is readable in the container,
// nothing else of the host is, the root filesystem is read-only even where
// its permissions allow writing, and /tmp is the function's to write.
func TestContainerFilesystem(t *testing.T) {
	p := newPodman(t)
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "values.txt")
	if err := os.WriteFile(file, []byte("replicas: 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	image := p.image(t, "read:v1", "read", file)
	rt := p.runtime(t)
	if _, err := rt.Run(context.Background(), krm.Function{Image: image}, configMaps(1), containerLimits(krm.Limits{Mounts: []string{dir}})); err != nil {
		t.Fatalf("the mounted file was not readable: %v", err)
	}
	_, err := rt.Run(context.Background(), krm.Function{Image: image}, configMaps(1), containerLimits(krm.Limits{}))
	var fe *krm.FunctionError
	if !errors.Is(err, krm.ErrFunctionFailed) || !errors.As(err, &fe) || !strings.Contains(fe.Stderr, "read failed") {
		t.Fatalf("err = %v, want the function unable to read an undeclared host path", err)
	}
	root := p.image(t, "write-root:v1", "write", "/krm-writable/probe")
	_, err = rt.Run(context.Background(), krm.Function{Image: root}, configMaps(1), containerLimits(krm.Limits{}))
	if !errors.Is(err, krm.ErrFunctionFailed) || !errors.As(err, &fe) || !strings.Contains(fe.Stderr, "read-only file system") {
		t.Fatalf("err = %v, want a write to the root filesystem refused as read-only", err)
	}
	tmp := p.image(t, "write-tmp:v1", "write", "/tmp/scratch")
	if _, err := rt.Run(context.Background(), krm.Function{Image: tmp}, configMaps(1), containerLimits(krm.Limits{})); err != nil {
		t.Fatalf("the function could not write to /tmp: %v", err)
	}
}

// TestContainerConcurrentRuns: one runtime runs functions side by side,
// each in its own container.
func TestContainerConcurrentRuns(t *testing.T) {
	p := newPodman(t)
	p.catalogImages(t, "set-namespace:v0.4.1")
	rt := p.runtime(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg := yaml.MustParse(fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  namespace: ns%d\n", i))
			out, err := rt.Run(context.Background(), krm.Function{Image: "gcr.io/kpt-fn/set-namespace:v0.4.1", Config: cfg}, configMaps(2), containerLimits(krm.Limits{}))
			if err == nil && out.Items[0].GetNamespace() != fmt.Sprintf("ns%d", i) {
				err = fmt.Errorf("run %d got namespace %q", i, out.Items[0].GetNamespace())
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}
