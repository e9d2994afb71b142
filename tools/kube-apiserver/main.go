// Command kube-apiserver is the upstream API server, built from its Go module
// so coffer's tests run against the real thing without a prebuilt download.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
