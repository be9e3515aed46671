package fake

import (
	"net/http"
	"strings"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	configapi "github.com/nephio-project/porch/api/porchconfig/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"
)

// The fake's discovery documents name exactly the groups, resources and
// verbs it serves, so that discovery-driven clients (controller-runtime's
// REST mapper, kubectl) find them and nothing it would answer 405 to.
var (
	verbsAll      = metav1.Verbs{VerbCreate, VerbDelete, VerbGet, VerbList, VerbPatch, VerbUpdate, VerbWatch}
	verbsCRUD     = metav1.Verbs{VerbCreate, VerbDelete, VerbGet, VerbList, VerbPatch, VerbUpdate}
	porchGroup    = metav1.APIGroup{Name: porchapi.SchemeGroupVersion.Group, Versions: []metav1.GroupVersionForDiscovery{porchVersion}, PreferredVersion: porchVersion}
	porchVersion  = metav1.GroupVersionForDiscovery{GroupVersion: porchapi.SchemeGroupVersion.String(), Version: porchapi.SchemeGroupVersion.Version}
	configGroup   = metav1.APIGroup{Name: configapi.GroupVersion.Group, Versions: []metav1.GroupVersionForDiscovery{configVersion}, PreferredVersion: configVersion}
	configVersion = metav1.GroupVersionForDiscovery{GroupVersion: configapi.GroupVersion.String(), Version: configapi.GroupVersion.Version}

	discovery = map[string]any{
		"/api": &metav1.APIVersions{
			TypeMeta:                   metav1.TypeMeta{Kind: "APIVersions"},
			Versions:                   []string{"v1"},
			ServerAddressByClientCIDRs: []metav1.ServerAddressByClientCIDR{{ClientCIDR: "0.0.0.0/0", ServerAddress: "127.0.0.1"}},
		},
		"/api/v1": &metav1.APIResourceList{
			TypeMeta:     metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"},
			GroupVersion: "v1",
			APIResources: []metav1.APIResource{
				{Name: "secrets", SingularName: "secret", Namespaced: true, Kind: "Secret", Verbs: metav1.Verbs{VerbCreate, VerbDelete, VerbGet}},
			},
		},
		"/apis": &metav1.APIGroupList{
			TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"},
			Groups:   []metav1.APIGroup{porchGroup, configGroup},
		},
		"/apis/" + porchGroup.Name:  group(porchGroup),
		"/apis/" + configGroup.Name: group(configGroup),
		"/apis/" + porchVersion.GroupVersion: &metav1.APIResourceList{
			TypeMeta:     metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"},
			GroupVersion: porchVersion.GroupVersion,
			APIResources: []metav1.APIResource{
				{Name: "packagerevisions", SingularName: "packagerevision", Namespaced: true, Kind: "PackageRevision", Verbs: verbsAll},
				{Name: "packagerevisions/approval", Namespaced: true, Kind: "PackageRevision", Verbs: metav1.Verbs{VerbUpdate}},
				{Name: "packagerevisionresources", SingularName: "packagerevisionresources", Namespaced: true, Kind: "PackageRevisionResources",
					Verbs: metav1.Verbs{VerbGet, VerbList, VerbUpdate}},
			},
		},
		"/apis/" + configVersion.GroupVersion: &metav1.APIResourceList{
			TypeMeta:     metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"},
			GroupVersion: configVersion.GroupVersion,
			APIResources: []metav1.APIResource{
				{Name: "repositories", SingularName: "repository", Namespaced: true, Kind: "Repository", Verbs: verbsCRUD},
				{Name: "repositories/status", Namespaced: true, Kind: "Repository", Verbs: metav1.Verbs{VerbPatch, VerbUpdate}},
			},
		},
		"/version": &version.Info{Major: "1", Minor: "34", GitVersion: "v1.34.0+porchkit-fake", Platform: "porchkit/fake"},
	}
)

func group(g metav1.APIGroup) *metav1.APIGroup {
	g.TypeMeta = metav1.TypeMeta{Kind: "APIGroup", APIVersion: "v1"}
	return &g
}

// serveHealth answers the apiserver's health checks (/healthz, /readyz,
// /livez and their sub-checks) with "ok", without authentication.
func serveHealth(w http.ResponseWriter, req *http.Request) bool {
	p := strings.TrimSuffix(req.URL.Path, "/")
	for _, check := range []string{"/healthz", "/readyz", "/livez"} {
		if p == check || strings.HasPrefix(p, check+"/") {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("ok"))
			return true
		}
	}
	return false
}

// serveDiscovery answers /api, /apis, their group and version documents and
// /version. Discovery requests are not counted and pass no hooks. The
// documents are plain JSON, so clients asking for aggregated discovery fall
// back to these.
func serveDiscovery(w http.ResponseWriter, req *http.Request) bool {
	doc, ok := discovery[strings.TrimSuffix(req.URL.Path, "/")]
	if !ok {
		return false
	}
	if req.Method != http.MethodGet {
		writeResponse(w, StatusResponse(http.StatusMethodNotAllowed, "discovery is read-only"))
		return true
	}
	writeJSON(w, http.StatusOK, doc)
	return true
}
