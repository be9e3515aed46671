package applier

import (
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
)

// clients are one cluster's API clients, built once per REST config.
type clients struct {
	config  *rest.Config
	disco   discovery.CachedDiscoveryInterface
	mapper  meta.ResettableRESTMapper
	dynamic dynamic.Interface
	factory cmdutil.Factory

	mu        sync.Mutex
	namespace bool // the backend's namespace is known to exist
}

func newClients(cfg *rest.Config) (*clients, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	disco := memory.NewMemCacheClient(dc)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(disco)
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	c := &clients{config: cfg, disco: disco, mapper: mapper, dynamic: dyn}
	c.factory = cmdutil.NewFactory(c)
	return c, nil
}

// ToRESTConfig implements genericclioptions.RESTClientGetter, for the
// kubectl factory cli-utils takes.
func (c *clients) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(c.config), nil }

// ToDiscoveryClient implements genericclioptions.RESTClientGetter.
func (c *clients) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	return c.disco, nil
}

// ToRESTMapper implements genericclioptions.RESTClientGetter.
func (c *clients) ToRESTMapper() (meta.RESTMapper, error) { return c.mapper, nil }

// ToRawKubeConfigLoader implements genericclioptions.RESTClientGetter; the
// factory reads only the default namespace from it.
func (c *clients) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	return clientcmd.NewDefaultClientConfig(*clientcmdapi.NewConfig(), &clientcmd.ConfigOverrides{})
}

// clientCache keeps clients per cluster, rebuilt when its REST config
// changes.
type clientCache struct {
	mu sync.Mutex
	m  map[string]*clients
}

func (cc *clientCache) get(name string, cfg *rest.Config) (*clients, error) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if c, ok := cc.m[name]; ok && c.config == cfg {
		return c, nil
	}
	c, err := newClients(cfg)
	if err != nil {
		return nil, err
	}
	if cc.m == nil {
		cc.m = map[string]*clients{}
	}
	cc.m[name] = c
	return c, nil
}
