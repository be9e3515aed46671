package krm

import (
	"context"
	"errors"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
)

// PorchRenderer renders packages through an Executor the way Porch renders
// the Kptfile pipeline on every change, and reports the function results in
// Porch's shape. It is a renderer for the in-memory Porch of porch/fake
// (fake.ClientBuilder.WithRenderer), which sees it through its own
// interface, so neither package imports the other.
type PorchRenderer struct {
	exec Executor
}

// NewPorchRenderer returns a PorchRenderer running functions with exec.
func NewPorchRenderer(exec Executor) *PorchRenderer {
	return &PorchRenderer{exec: exec}
}

// Render renders files, as Render does, and returns the rendered files and
// the function results as Porch's render status.
func (r *PorchRenderer) Render(ctx context.Context, files map[string]string) (map[string]string, *porchapi.RenderStatus, error) {
	out, result, err := Render(ctx, r.exec, files)
	if err != nil {
		return nil, nil, err
	}
	return out, renderStatus(result), nil
}

// renderStatus converts krm's results to Porch's FunctionResultList shape.
func renderStatus(r *RenderResult) *porchapi.RenderStatus {
	st := &porchapi.RenderStatus{}
	for _, run := range r.Runs {
		item := &porchapi.Result{Image: run.Function, ExitCode: run.Run.ExitCode}
		var fe *FunctionError
		if errors.As(run.Err, &fe) {
			item.Stderr, item.ExitCode = fe.Stderr, fe.ExitCode
		}
		for _, res := range run.Results {
			item.Results = append(item.Results, resultItem(res))
		}
		st.Result.Items = append(st.Result.Items, item)
	}
	return st
}

func resultItem(r *framework.Result) porchapi.ResultItem {
	out := porchapi.ResultItem{Message: r.Message, Severity: string(r.Severity), Tags: r.Tags}
	if r.ResourceRef != nil {
		out.ResourceRef = &porchapi.ResourceIdentifier{NameMeta: porchapi.NameMeta{Name: r.ResourceRef.Name, Namespace: r.ResourceRef.Namespace}}
		out.ResourceRef.APIVersion, out.ResourceRef.Kind = r.ResourceRef.APIVersion, r.ResourceRef.Kind
	}
	if r.File != nil {
		out.File = &porchapi.File{Path: r.File.Path, Index: r.File.Index}
	}
	if r.Field != nil {
		out.Field = &porchapi.Field{Path: r.Field.Path}
	}
	return out
}
