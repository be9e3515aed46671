// Package kubeplane runs the Kubernetes control-plane processes of porchkit's
// local test stacks: etcd, kube-apiserver, kube-controller-manager and
// kube-scheduler, all on 127.0.0.1 and free ports, with TLS from one
// certificate authority per stack and token, client-certificate and RBAC
// authentication and authorisation.
package kubeplane
