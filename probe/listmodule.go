package probe

import (
	"errors"
	"strings"
)

// listBinary is the file -L, -V and --funcs read for bin. A -m argument
// without a '/' (opts.Module) names a loaded module, found under
// /lib/modules/$(uname -r) as when probes are added to it (perf's
// open_debuginfo and get_target_map go through kernel_get_module_dso).
// summary is the command's failure line ("Failed to show lines.").
func listBinary(bin string, opts ListOptions, summary string) (string, error) {
	if !opts.Module || strings.Contains(bin, "/") {
		return bin, nil
	}
	p, err := loadedModulePath(bin)
	if err != nil {
		var pe *Error
		if errors.As(err, &pe) {
			e := *pe
			e.Summary = summary
			return "", &e
		}
		return "", err
	}
	return p, nil
}
