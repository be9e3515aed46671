package blueprint

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	kptfilev1 "github.com/nephio-project/porch/pkg/kpt/api/kptfile/v1"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/krm"
)

func parseKptfileNode(n *kyaml.RNode) (*kptfilev1.KptFile, error) {
	s, err := n.String()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidBlueprint, KptfileName, err)
	}
	var kf kptfilev1.KptFile
	if err := kyaml.Unmarshal([]byte(s), &kf); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidBlueprint, KptfileName, err)
	}
	return &kf, nil
}

// RenderError is a failed pipeline render.
type RenderError struct {
	// Err is krm's error (a *krm.RenderError, usually).
	Err error
}

// Error wraps krm's message.
func (e *RenderError) Error() string { return fmt.Sprintf("blueprint: render: %v", e.Err) }

// Is reports ErrRender.
func (e *RenderError) Is(target error) bool { return target == ErrRender }

// Unwrap returns krm's error.
func (e *RenderError) Unwrap() error { return e.Err }

// skipFunctions removes the pipeline steps whose image (or exec) starts
// with one of the prefixes, in every Kptfile; it returns the removed ones.
func skipFunctions(files map[string]string, prefixes []string) (map[string]string, []string, error) {
	if len(prefixes) == 0 {
		return files, nil, nil
	}
	out := make(map[string]string, len(files))
	for k, v := range files {
		out[k] = v
	}
	var skipped []string
	for _, p := range sortedKeys(files) {
		if path.Base(p) != KptfileName {
			continue
		}
		root, err := kyaml.Parse(files[p])
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %s: %w", ErrInvalidBlueprint, p, err)
		}
		changed := false
		for _, list := range []string{"mutators", "validators"} {
			fns, _ := root.Pipe(kyaml.Lookup("pipeline", list))
			if fns == nil {
				continue
			}
			els, _ := fns.Elements()
			var kept []*kyaml.Node
			for _, fn := range els {
				ref := stringField(fn, "image")
				if ref == "" {
					ref = stringField(fn, "exec")
				}
				if hasAnyPrefix(ref, prefixes) {
					skipped = append(skipped, ref)
					changed = true
					continue
				}
				kept = append(kept, fn.YNode())
			}
			fns.YNode().Content = kept
			if len(kept) == 0 {
				_, _ = root.Pipe(kyaml.Lookup("pipeline"), kyaml.Clear(list))
			}
		}
		if changed {
			s, err := root.String()
			if err != nil {
				return nil, nil, err
			}
			out[p] = s
		}
	}
	return out, skipped, nil
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if p != "" && strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// unavailableFunctions lists the pipeline functions the default registry
// has no runtime for.
func unavailableFunctions(files map[string]string) []string {
	reg := krm.DefaultRegistry()
	var out []string
	for _, p := range sortedKeys(files) {
		if path.Base(p) != KptfileName {
			continue
		}
		var kf kptfilev1.KptFile
		if err := kyaml.Unmarshal([]byte(files[p]), &kf); err != nil || kf.Pipeline == nil {
			continue
		}
		for _, fn := range append(append([]kptfilev1.Function{}, kf.Pipeline.Mutators...), kf.Pipeline.Validators...) {
			if fn.Image == "" {
				out = append(out, "exec:"+fn.Exec)
				continue
			}
			if _, err := reg.Resolve(krm.Function{Image: fn.Image}); err != nil {
				out = append(out, fn.Image)
			}
		}
	}
	return out
}

// render runs the Kptfile pipeline with krm.Render after removing the
// skipped functions. Without an executor the builtin catalog runs it and a
// function it does not have fails before anything runs; with one, a
// function the executor does not know fails as krm reports it.
func render(ctx context.Context, files map[string]string, o *GenerateOptions) (map[string]string, []string, *krm.RenderResult, error) {
	files, skipped, err := skipFunctions(files, o.SkipFunctions)
	if err != nil {
		return nil, nil, nil, err
	}
	exec := o.Executor
	if exec == nil {
		if missing := unavailableFunctions(files); len(missing) > 0 {
			return nil, skipped, nil, &FunctionUnavailableError{Images: missing}
		}
		exec = krm.NewRunner(krm.RunnerConfig{})
	}
	out, res, err := krm.Render(ctx, exec, files)
	if err != nil {
		if errors.Is(err, krm.ErrUnknownFunction) || errors.Is(err, krm.ErrNoContainerRuntime) {
			var fe *krm.FunctionError
			img := ""
			if errors.As(err, &fe) {
				img = fe.Function
			}
			return nil, skipped, res, &FunctionUnavailableError{Images: []string{img}, Err: err}
		}
		return nil, skipped, res, &RenderError{Err: err}
	}
	return out, skipped, res, nil
}
