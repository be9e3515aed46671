package fake

import (
	"context"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
)

// Renderer renders a package's files as Porch's Kptfile pipeline would,
// after every change: it returns the rendered files and the function
// results; an error fails the change and nothing is saved. The fake calls
// it with the request's context, which ends when the client gives up.
// krm.NewPorchRenderer is one, through a KRM function executor.
type Renderer interface {
	Render(ctx context.Context, resources map[string]string) (map[string]string, *porchapi.RenderStatus, error)
}

// RendererFunc is a function that is a Renderer.
type RendererFunc func(ctx context.Context, resources map[string]string) (map[string]string, *porchapi.RenderStatus, error)

// Render calls f.
func (f RendererFunc) Render(ctx context.Context, resources map[string]string) (map[string]string, *porchapi.RenderStatus, error) {
	return f(ctx, resources)
}

// GitFetcher returns the files of directory dir at ref in the git
// repository at url, and the commit they were read at, for clones from
// git. The fake calls it with the request's context. Without one, the fake
// clones only from its own repositories' URLs.
type GitFetcher interface {
	Fetch(ctx context.Context, url, ref, dir string) (files map[string]string, commit string, err error)
}

// GitFetcherFunc is a function that is a GitFetcher.
type GitFetcherFunc func(ctx context.Context, url, ref, dir string) (files map[string]string, commit string, err error)

// Fetch calls f.
func (f GitFetcherFunc) Fetch(ctx context.Context, url, ref, dir string) (map[string]string, string, error) {
	return f(ctx, url, ref, dir)
}
