// Package all lists the plugins this build offers. It is an explicit slice, not init()
// registration, so that tests and tools register only what they need.
package all

import (
	"tollgate/internal/plugin"
	"tollgate/plugins/correlationid"
	"tollgate/plugins/requestsizelimiting"
	"tollgate/plugins/requesttermination"
	"tollgate/plugins/requesttransformer"
	"tollgate/plugins/responsetransformer"
)

// Specs returns every bundled plugin's declaration.
func Specs() []plugin.Spec {
	return []plugin.Spec{
		correlationid.Spec(),
		requesttransformer.Spec(),
		responsetransformer.Spec(),
		requesttermination.Spec(),
		requestsizelimiting.Spec(),
	}
}
